/**
 * The failed-login limit on a node: there is no gateway in front of a node's MediaMTX, so its auth hook
 * holds the limit itself. A real MediaMTX in the node role (the plugin as the app starts it), real RTSP
 * clients from chosen loopback addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/process.js';
import { rtspDescribe, startMediamtx, testSecrets, type Started } from '../mediamtx/harness.js';

const S = testSecrets();
let node: Started;

beforeAll(async () => {
  node = await startMediamtx({ role: 'node', options: { originRelay: { host: '127.0.0.1', port: 9 } }, secrets: S });
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await stopAll();
});

describe('failed-login limit on a node', () => {
  it('wrong passwords in a loop block that address, the right password included; other addresses still get in', async () => {
    const port = node.ports.rtsp;
    // A player's first request carries no credentials: never counted.
    for (let i = 0; i < 12; i++) expect(await rtspDescribe(port, 'live', undefined, undefined, '127.0.0.41')).toBe(401);
    expect(await rtspDescribe(port, 'live', 'viewer', S.viewerPassword, '127.0.0.41')).toBe(404);
    // Ten wrong passwords (MediaMTX delays each refusal 0-4 s: sent side by side).
    const wrong = await Promise.all(Array.from({ length: 10 }, (_, i) => rtspDescribe(port, 'live', 'viewer', `Wrong${i}Password1`, '127.0.0.40')));
    expect(wrong.every((s) => s === 401)).toBe(true);
    const right = await rtspDescribe(port, 'live', 'viewer', S.viewerPassword, '127.0.0.40');
    console.log(`node: 10 wrong passwords from 127.0.0.40 -> ${wrong.join(' ')}; then the right one -> ${right}`);
    expect(right).toBe(401);
    expect(node.server.authFailures('127.0.0.40')).toBeGreaterThanOrEqual(10);
    // Another address with the right password: authenticated (404: the stream is not pulled yet).
    expect(await rtspDescribe(port, 'live', 'viewer', S.viewerPassword, '127.0.0.42')).toBe(404);
  }, 120_000);
});
