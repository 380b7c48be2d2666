import { describe, expect, it } from 'vitest';
import { routingStatusLine } from './routing-follow.js';

describe('routingStatusLine', () => {
  const base = { at: Date.now(), haven: '0123456789abcdef', running: true };
  it('says what is wrong, for each case', () => {
    expect(routingStatusLine(undefined)).toMatch(/none yet/);
    expect(routingStatusLine({ ...base, running: false, health: { ok: true, version: 3, ageMs: 0 } })).toMatch(/the node is not running/);
    expect(
      routingStatusLine({ ...base, health: { ok: true, version: 7, ageMs: 10 }, nodes: [{ name: 'a', healthy: true, load: 0 }, { name: 'b', healthy: false, load: 0 }] }),
    ).toBe('routing state: current (version 7, 1/2 nodes healthy)');
    expect(routingStatusLine({ ...base, health: { ok: false, reason: 'wrong-haven', message: 'a routing state for another Haven was refused' } })).toBe(
      'routing state: wrong-haven: a routing state for another Haven was refused',
    );
  });
});
