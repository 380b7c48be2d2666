import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenKey, TOKEN_KEY_FILE } from './token-key-file.js';

describe('the token key file', () => {
  it('is made once (0600) and the same key comes back; a damaged file is a clear error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'haven-token-key-'));
    try {
      const first = await loadTokenKey(dir);
      const file = path.join(dir, TOKEN_KEY_FILE);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toContain('BEGIN PRIVATE KEY');
      const again = await loadTokenKey(dir);
      expect(again.publicKey).toBe(first.publicKey);
      expect(again.id).toBe(first.id);
      await writeFile(file, 'garbage', { mode: 0o600 });
      await expect(loadTokenKey(dir)).rejects.toThrow(/holds no Ed25519 private key: delete it/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
