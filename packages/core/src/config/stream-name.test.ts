import { describe, expect, it } from 'vitest';
import { streamNameSchema } from './schema.js';

// Why stream names need no VRChat-specific rule: every name the schema accepts survives every URL
// step unchanged, and every character that some step would rewrite is refused with a clear message.
describe('stream names and URLs', () => {
  const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

  it('every allowed character is unreserved: percent-encoding and URL parsing leave it as is', () => {
    for (const ch of allowed) {
      const name = `Live${ch}Stream`;
      expect(streamNameSchema.safeParse(name).success).toBe(true);
      expect(encodeURIComponent(name)).toBe(name);
      expect(encodeURI(name)).toBe(name);
      // rtspt:// is what VRChat users paste; the path (case included) comes back byte for byte.
      expect(new URL(`rtspt://viewer:pw@198.51.100.7:8554/${name}`).pathname).toBe(`/${name}`);
    }
  });

  it('refuses what a URL step would rewrite or cut, with what is allowed', () => {
    for (const bad of ['my stream', 'live#1', 'live?x', 'live%20', 'a/b', 'live.mp4', 'straße', '', 'x'.repeat(65)]) {
      const r = streamNameSchema.safeParse(bad);
      expect(r.success, bad).toBe(false);
      expect(r.error?.issues[0]?.message).toBe('expected 1-64 chars of A-Z a-z 0-9 _ -');
    }
  });
});
