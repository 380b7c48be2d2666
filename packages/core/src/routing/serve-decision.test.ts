import { describe, expect, it } from 'vitest';
import { serveDecision, type ServeInput } from './serve-decision.js';

const base: ServeInput = { best: { name: 'par', local: false }, reason: 'nearest', policyFollows: true, verdict: { served: 'redirect', why: 'default' } };

describe('serveDecision', () => {
  it('redirects to the best node when the policy lets the player have a 302 and nothing says otherwise', () => {
    expect(serveDecision(base)).toEqual({ mode: 'redirect', node: 'par', reason: 'nearest' });
    expect(serveDecision({ ...base, verdict: { served: 'redirect', why: 'pinned-redirect' } })).toEqual({ mode: 'redirect', node: 'par', reason: 'nearest' });
  });
  it('serves here when the best node is this one, whatever the player', () => {
    expect(serveDecision({ ...base, best: { name: 'origin', local: true }, reason: 'fallback-no-location', policyFollows: false })).toEqual({ mode: 'splice', reason: 'fallback-no-location' });
  });
  it('a pin or a lesson names the reason before the policy does', () => {
    expect(serveDecision({ ...base, verdict: { served: 'local', why: 'pinned-local' }, policyFollows: false })).toEqual({ mode: 'splice', reason: 'pinned-local' });
    expect(serveDecision({ ...base, verdict: { served: 'local', why: 'learned-local' } })).toEqual({ mode: 'splice', reason: 'learned-local' });
    expect(serveDecision({ ...base, policyFollows: false })).toEqual({ mode: 'splice', reason: 'policy-splice' });
  });
  it('no node at all: refused', () => {
    expect(serveDecision({ ...base, best: undefined })).toEqual({ mode: 'refuse', reason: 'no-node' });
  });
});
