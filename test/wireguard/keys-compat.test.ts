import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadOrCreateKeyPair, publicKeyFromPrivate } from '@haven/plugin-wireguard';
import { requireTool } from '../helpers/tools.js';

const wg = requireTool('wg', 'apt-get install wireguard-tools');
const wgRun = (args: string[], input?: string): string => execFileSync(wg, args, { input, encoding: 'utf8' }).trim();

describe('keys are byte-compatible with the real wg', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('wg pubkey derives our public key from our private key', () => {
    for (let i = 0; i < 5; i++) {
      const pair = generateKeyPair();
      expect(wgRun(['pubkey'], `${pair.privateKey}\n`)).toBe(pair.publicKey);
    }
  });

  it('we derive the same public key as wg pubkey from wg genkey', () => {
    for (let i = 0; i < 5; i++) {
      const priv = wgRun(['genkey']);
      expect(publicKeyFromPrivate(priv)).toBe(wgRun(['pubkey'], `${priv}\n`));
    }
  });

  it('the stored key file is what wg reads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hvwg-compat-'));
    dirs.push(dir);
    const pair = await loadOrCreateKeyPair(dir);
    const text = await readFile(path.join(dir, 'wireguard', 'private.key'), 'utf8');
    expect(wgRun(['pubkey'], text)).toBe(pair.publicKey);
  });
});
