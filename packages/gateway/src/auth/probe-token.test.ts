import { describe, expect, it } from 'vitest';
import { ViewerTokenKey } from '@haven/core';
import { probeTokens, signProbeToken, verifyProbeToken } from './probe-token.js';

describe('probe credential', () => {
  const origin = new ViewerTokenKey();
  const node = new ViewerTokenKey();
  node.acceptFrom(() => [origin.publicKey]);

  it('is taken for the node it names, from a key the node accepts, until it expires; from any address', () => {
    const t = signProbeToken(origin, 'par', 60, 1_000_000);
    expect(verifyProbeToken(node, t, 'par', 1_000_000)).toBe('ok');
    expect(verifyProbeToken(node, t, 'fra', 1_000_000)).toBe('bad-signature');
    expect(verifyProbeToken(node, t, 'par', 1_000_000 + 61_000)).toBe('expired');
    expect(verifyProbeToken(node, signProbeToken(new ViewerTokenKey(), 'par'), 'par')).toBe('unknown-signer');
    expect(verifyProbeToken(node, `${t}x`, 'par')).toBe('malformed');
    // A viewer token is no probe credential.
    expect(verifyProbeToken(node, t.replace(/^p1/, 'v2'), 'par')).toBe('malformed');
  });

  it('a prober signs once per node per half lifetime', () => {
    const tokens = probeTokens(() => origin, 60);
    const a = tokens('par');
    expect(tokens('par')).toBe(a);
    expect(tokens('fra')).not.toBe(a);
    expect(verifyProbeToken(node, a as string, 'par')).toBe('ok');
    expect(probeTokens(() => undefined)('par')).toBeUndefined();
  });

  it('a key that cannot be had yet (asking throws) means no credential, not a failed probe', () => {
    const tokens = probeTokens(() => {
      throw new Error('the Haven is not started');
    });
    expect(tokens('par')).toBeUndefined();
  });
});
