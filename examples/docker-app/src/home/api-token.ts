import path from 'node:path';
import { randomToken, readPrivateFile, writePrivateFile } from '@haven/core';

export const API_TOKEN_FILE = 'api-token';

/** The control API token (0600 in the state dir), created on first use. */
export async function apiToken(stateDir: string): Promise<string> {
  const file = path.join(stateDir, API_TOKEN_FILE);
  const existing = (await readPrivateFile(file))?.trim();
  if (existing) return existing;
  const token = randomToken(40);
  await writePrivateFile(file, `${token}\n`);
  return token;
}
