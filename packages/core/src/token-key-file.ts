import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { HavenError } from './errors.js';
import { ensureStateDir, readPrivateFile, writePrivateFile } from './state.js';
import { ViewerTokenKey } from './token-key.js';

/** This gateway's Ed25519 token key in the state directory (PKCS#8 PEM, mode 0600). */
export const TOKEN_KEY_FILE = 'token-key.pem';

/**
 * The gateway's own token key, made on first use and kept across restarts. Only its public half ever
 * leaves the machine (a node's reports to its origin; the origin's routing state to its entries).
 */
export async function loadTokenKey(stateDir: string): Promise<ViewerTokenKey> {
  const file = path.join(await ensureStateDir(stateDir), TOKEN_KEY_FILE);
  const pem = await readPrivateFile(file);
  if (pem !== undefined) {
    try {
      return new ViewerTokenKey(createPrivateKey(pem));
    } catch (err) {
      throw new HavenError(`${file} holds no Ed25519 private key: delete it and start again (a new key is made; viewers redirected in the last minute retry)`, {
        code: 'STATE_CORRUPT',
        cause: err,
        details: { path: file },
      });
    }
  }
  const key = new ViewerTokenKey();
  await writePrivateFile(file, key.exportPrivate());
  return key;
}
