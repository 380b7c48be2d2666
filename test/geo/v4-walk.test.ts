// The locator's own IPv4 walk of the search tree (`pointerV4` + `recordAt`) against the reader's
// `get`, for every record size a MaxMind DB may use: the test databases (28-bit records) are also
// re-encoded with 24- and 32-bit records, same data section.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseFromBuffer, findDbipFiles, walkNetworks, type GeoDatabase } from '@haven/plugin-geo';
import { geoipDir } from './helpers.js';

/** The same database with its search tree re-encoded with `to`-bit records (metadata patched). */
function withRecordSize(file: string, to: 24 | 32): Buffer {
  const buf = readFileSync(file);
  const db = databaseFromBuffer(buf, file);
  expect(db.recordSize).toBe(28);
  const { nodeCount, searchTreeSize } = db;
  const out = Buffer.alloc(nodeCount * (to / 4));
  for (let n = 0; n < nodeCount; n++) {
    const o = n * 7;
    const left = (buf[o + 3]! >> 4) * 2 ** 24 + buf.readUIntBE(o, 3);
    const right = (buf[o + 3]! & 0x0f) * 2 ** 24 + buf.readUIntBE(o + 4, 3);
    if (to === 24) {
      out.writeUIntBE(left, n * 6, 3);
      out.writeUIntBE(right, n * 6 + 3, 3);
    } else {
      out.writeUInt32BE(left, n * 8);
      out.writeUInt32BE(right, n * 8 + 4);
    }
  }
  const rest = Buffer.from(buf.subarray(searchTreeSize)); // separator, data, metadata
  // `record_size` is a uint16 in the metadata map: control byte 0xa1, one byte of value (28).
  const key = rest.lastIndexOf(Buffer.concat([Buffer.from('record_size'), Buffer.from([0xa1, 28])]));
  expect(key).toBeGreaterThan(0);
  rest[key + 'record_size'.length + 1] = to;
  return Buffer.concat([out, rest]);
}

const dotted = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** Networks' first addresses (IPv4 ones) plus a spread of addresses across the whole IPv4 space. */
function addresses(db: GeoDatabase): number[] {
  const out: number[] = [];
  walkNetworks(db, {
    maxNetworks: 5000,
    onNetwork: (n) => {
      if (!n.network.includes(':')) out.push(n.network.split('/')[0]!.split('.').reduce((a, o) => a * 256 + Number(o), 0));
    },
  });
  for (let i = 0; i < 3000; i++) out.push(Math.floor(i * (2 ** 32 / 3000)) + (i % 251));
  return out;
}

function expectSameAsReader(db: GeoDatabase): number {
  let found = 0;
  for (const v4 of addresses(db)) {
    const pointer = db.pointerV4(v4);
    const ours = pointer === 0 ? null : db.recordAt(pointer, v4);
    expect(ours, dotted(v4)).toEqual(db.get(dotted(v4)) ?? null);
    if (ours !== null) found++;
  }
  return found;
}

describe('IPv4 search-tree walk', () => {
  for (const name of ['GeoIP2-City-Test', 'GeoLite2-City-Test', 'GeoIP2-Country-Test']) {
    const file = path.join(geoipDir, `${name}.mmdb`);
    it(`${name} (IPv6 tree, 28-bit records) answers as the reader`, () => {
      expect(expectSameAsReader(databaseFromBuffer(readFileSync(file), file))).toBeGreaterThan(0);
    });
    for (const size of [24, 32] as const) {
      it(`${name} re-encoded with ${size}-bit records answers as the reader`, () => {
        const db = databaseFromBuffer(withRecordSize(file, size), `${name}-${size}.mmdb`);
        expect(db.recordSize).toBe(size);
        expect(expectSameAsReader(db)).toBeGreaterThan(0);
      });
    }
  }

  it('the DB-IP IPv4 database (IPv4 tree) answers as the reader', () => {
    const file = findDbipFiles().find((f) => f.endsWith('ipv4.mmdb'))!;
    const db = databaseFromBuffer(readFileSync(file), file);
    expect(db.ipVersion).toBe(4);
    expect(expectSameAsReader(db)).toBeGreaterThan(1000);
  });
});
