import { readFile, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { freePort, freeUdpPort } from './process.js';

/**
 * Moves every listener of the origin config in `file` (made by `haven init`) to free loopback ports,
 * so the test runs beside anything else on this machine; nothing else in the file changes.
 */
export async function moveListenersToFreeLoopbackPorts(file: string): Promise<{ api: number; mediamtxApi: number }> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  const api = await freePort();
  const mediamtxApi = await freePort();
  doc.setIn(['public', 'rtspPort'], await freePort());
  doc.setIn(['public', 'hlsPort'], await freePort());
  doc.setIn(['public', 'bind'], '127.0.0.1');
  doc.setIn(['api', 'listen'], `127.0.0.1:${api}`);
  doc.setIn(['plugins', 'mediamtx'], doc.createNode({
    rtspAddress: `127.0.0.1:${await freePort()}`,
    hlsAddress: `127.0.0.1:${await freePort()}`,
    rtmpAddress: `127.0.0.1:${await freePort()}`,
    srtAddress: `127.0.0.1:${await freeUdpPort()}`,
    apiAddress: `127.0.0.1:${mediamtxApi}`,
  }));
  await writeFile(file, doc.toString());
  return { api, mediamtxApi };
}
