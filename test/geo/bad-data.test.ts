// MaxMind's corrupt databases (../shared/geoip/bad-data, see its README): each one is either refused
// at load with a clear GEO_DB_INVALID, or loads and then a walk over every network it holds shows the
// damage, with the damaged lookups answering undefined and a clear GEO_LOOKUP_FAILED error event.
// Never a crash, a hang or an exit: the walk is bounded by construction (each node once, depth <= the
// address length) and every step runs under a deadline.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isValidPoint, type HavenError } from '@haven/core';
import { databaseFromBuffer, GeoLocator, geoip, openDatabase, walkNetworks, type GeoDatabase, type WalkReport } from '@haven/plugin-geo';
import { badDataDir, pluginContext, publicAddressIn, removeTempStateDirs, withDeadline } from './helpers.js';

type Expect =
  /** Refused at load. */
  | { load: 'rejected'; why: RegExp }
  /** Loads; some records are unreadable (lookups there fail with an error). */
  | { load: 'ok'; lookupErrors: true; structural: boolean }
  /** Loads; the search tree has damage no lookup reaches. */
  | { load: 'ok'; lookupErrors: false; structural: true }
  /** Loads and reads cleanly (the damage is elsewhere: metadata layout, huge epoch, odd records). */
  | { load: 'ok'; lookupErrors: false; structural: false; buildDateValid?: boolean };

const EXPECTED: Record<string, Expect> = {
  'bad-unicode-in-map-key.mmdb': { load: 'ok', lookupErrors: true, structural: true },
  'cyclic-data-structure.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'invalid-bytes-length.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'invalid-data-record-offset.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'invalid-map-key-length.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'invalid-string-length.mmdb': { load: 'rejected', why: /nesting too deep or a pointer cycle/ },
  'libmaxminddb-corrupt-search-tree.mmdb': { load: 'ok', lookupErrors: false, structural: true },
  'libmaxminddb-deep-array-nesting.mmdb': { load: 'ok', lookupErrors: false, structural: false },
  'libmaxminddb-deep-nesting.mmdb': { load: 'ok', lookupErrors: false, structural: false },
  'libmaxminddb-empty-array-last-in-metadata.mmdb': { load: 'ok', lookupErrors: false, structural: false },
  'libmaxminddb-empty-map-last-in-metadata.mmdb': { load: 'ok', lookupErrors: false, structural: false },
  'libmaxminddb-metadata-marker-only.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'libmaxminddb-offset-integer-overflow.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'libmaxminddb-oversized-array.mmdb': { load: 'ok', lookupErrors: true, structural: false },
  'libmaxminddb-oversized-map.mmdb': { load: 'ok', lookupErrors: true, structural: false },
  'libmaxminddb-separator-record-max-left.mmdb': { load: 'ok', lookupErrors: true, structural: true },
  'libmaxminddb-separator-record-min-left.mmdb': { load: 'ok', lookupErrors: true, structural: true },
  'libmaxminddb-separator-record-min-right.mmdb': { load: 'ok', lookupErrors: true, structural: true },
  'libmaxminddb-uint64-max-epoch.mmdb': { load: 'ok', lookupErrors: false, structural: false, buildDateValid: false },
  'metadata-is-an-uint128.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
  'unexpected-bytes.mmdb': { load: 'rejected', why: /metadata or search tree unreadable/ },
};

const files = readdirSync(badDataDir).filter((f) => f.endsWith('.mmdb')).sort();

/** Walk the file and look every network up through the locator; nothing may throw. */
function walkAndLocate(db: GeoDatabase) {
  const errors: HavenError[] = [];
  const locator = new GeoLocator({ databases: [db], onError: (e) => errors.push(e), cacheSize: 0, maxErrorsPerMinute: 1000 });
  let located = 0;
  let asked = 0;
  const report: WalkReport = walkNetworks(db, {
    onNetwork: (n) => {
      const ip = publicAddressIn(n.network);
      if (!ip) return;
      asked++;
      const loc = locator.locate(ip);
      if (loc !== undefined) {
        expect(isValidPoint(loc)).toBe(true);
        located++;
      }
    },
  });
  return { report, errors, located, asked, stats: locator.stats() };
}

afterAll(removeTempStateDirs);

describe('bad-data corpus', () => {
  it('has an expectation for every file in the folder (none skipped silently)', () => {
    expect(files.length).toBeGreaterThanOrEqual(21);
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  for (const file of files) {
    it(file, async () => {
      const full = path.join(badDataDir, file);
      const want = EXPECTED[file];
      expect(want, `no expectation for ${file}`).toBeDefined();
      if (!want) return;
      const opened = await withDeadline(10_000, `loading ${file}`, () => openDatabase(full).then((db) => ({ db }), (error: unknown) => ({ error })));
      if (want.load === 'rejected') {
        expect('error' in opened, `${file} should be refused at load`).toBe(true);
        const err = (opened as { error: HavenError }).error;
        expect(err.code).toBe('GEO_DB_INVALID');
        expect(err.message).toContain(file);
        expect(err.message).toMatch(want.why);
        expect(err.message).toMatch(/Replace it/);
        // Through the plugin too: start fails with the same clear error, nothing else breaks.
        const { ctx } = pluginContext({ database: full });
        const inst = await geoip({ database: full }).setup(ctx);
        await expect(inst.start!()).rejects.toMatchObject({ code: 'GEO_DB_INVALID' });
        expect(inst.locator!.locate('81.2.69.160')).toBeUndefined();
        await inst.stop!();
        return;
      }
      expect('db' in opened, `${file} should load: ${'error' in opened ? String(opened.error) : ''}`).toBe(true);
      const db = (opened as { db: GeoDatabase }).db;
      const { report, errors, stats, asked } = await withDeadline(10_000, `walking ${file}`, () => walkAndLocate(db));
      expect(report.complete).toBe(true);
      expect(report.nodesVisited).toBeLessThanOrEqual(db.nodeCount);
      expect(report.networks).toBeGreaterThan(0);
      if (want.lookupErrors) {
        expect(report.failed, JSON.stringify(report.issues)).toBeGreaterThan(0);
        expect(report.issues.length).toBeGreaterThan(0);
        for (const i of report.issues) expect(i.problem).toMatch(/corrupt data record|separator|past the end|unreachable|pointer cycle/);
        // The locator saw the same damage: counted, reported as a clear error event, answered undefined.
        expect(stats.errors).toBeGreaterThan(0);
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors) {
          expect(e.code).toBe('GEO_LOOKUP_FAILED');
          expect(e.message).toContain(file);
          expect(e.message).toMatch(/database is damaged/);
        }
      } else {
        expect(report.failed).toBe(0);
        expect(stats.errors).toBe(0);
        expect(errors).toEqual([]);
      }
      expect(report.structural > 0, JSON.stringify(report.issues)).toBe(want.structural);
      if (file === 'libmaxminddb-corrupt-search-tree.mmdb') {
        expect(report.unreachable).toBe(db.nodeCount - 1);
      }
      expect(asked).toBeGreaterThan(0);
      if ('buildDateValid' in want && want.buildDateValid === false) {
        // build_epoch = 2^64-1: no overflow, no throw; reported as an invalid date, and describe() works.
        expect(db.buildDateValid).toBe(false);
        expect(db.buildDate).toMatch(/^invalid/);
        const locator = new GeoLocator({ databases: [db] });
        expect(locator.describe().buildDate).toMatch(/^invalid/);
        expect(() => JSON.stringify(locator.describe())).not.toThrow();
      }
    });
  }

  it('a pointer cycle in the data section is caught per lookup (decoder stack overflow), not a crash', async () => {
    // A valid file whose only record is patched into a pointer to itself: the maxmind decoder recurses
    // until V8 throws RangeError. The locator catches it, names it, counts it and answers undefined.
    const src = readFileSync(path.join(badDataDir, 'libmaxminddb-uint64-max-epoch.mmdb'));
    const buf = Buffer.from(src);
    const dataStart = 6 + 16; // one 24-bit node, then the 16-byte separator
    expect(buf.subarray(dataStart, dataStart + 3).toString('hex')).toBe('e14269'); // map(1) "ip"...
    buf[dataStart] = 0x20; // pointer, size 0, value (0 << 8) | next byte
    buf[dataStart + 1] = 0x00; // -> data offset 0: itself
    const db = databaseFromBuffer(buf, 'cyclic-pointer.mmdb');
    const errors: HavenError[] = [];
    const locator = new GeoLocator({ databases: [db], onError: (e) => errors.push(e) });
    expect(locator.locate('81.2.69.160')).toBeUndefined();
    expect(locator.locate('81.2.69.160')).toBeUndefined(); // cached: not re-run
    expect(locator.stats().errors).toBe(1);
    expect(errors[0]?.code).toBe('GEO_LOOKUP_FAILED');
    expect(errors[0]?.message).toMatch(/pointer cycle or nesting too deep/);
    const report = walkNetworks(db);
    expect(report.failed).toBe(2);
    expect(report.issues[0]?.problem).toMatch(/pointer cycle/);
  });
});
