// Lookups per second on the DB-IP Lite City database: our locator against the raw `maxmind` reader
// it is built on, in the same run, same addresses. Cold = every address new (our result cache only
// costs); warm = a set of 1,000 viewers asked again and again (our cache answers).
// Goal: cold lookups ≥ 0.9x raw `maxmind`.
//
// Profile (node --cpu-prof, cold rounds): the reader's own `findAddressInTree` was the top entry
// (~19% of samples, its record reads through `readUIntBE` closures), then its `parseIPv4` (split +
// parseInt per lookup, ~6%) and GC; our locator parsed the address first, so the text was parsed
// twice and every record went through the decoder cache and a WeakMap before the location memo.
// Changed: IPv4 addresses (already a uint32 after our parse) walk the search tree in place
// (`GeoDatabase.pointerV4`, one closure per record size reading bytes directly), and the location is
// memoised by data pointer, so the record is decoded only when its location is not known yet.
// IPv6 keeps the reader's path. Cold went from 0.73-0.80x to ~1.1-1.2x raw on a shared machine.
//   node bench/run.mjs geo            full run (~30 s)
//   node bench/run.mjs --smoke geo    a few seconds
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findDbipFiles, GeoLocator, ipKind, openDatabase, parseIp, recordToLocation } from '@haven/plugin-geo';
import { goalLine, median, rng, smoke } from './lib.js';

// The raw peer is the very `maxmind` the plugin depends on (resolved from the plugin's own folder).
const maxmind = createRequire(fileURLToPath(import.meta.resolve('@haven/plugin-geo')))('maxmind') as {
  open(file: string): Promise<{ get(ip: string): unknown }>;
};

const ROUNDS = smoke ? 3 : 7;
const COLD_PER_ROUND = smoke ? 20_000 : 200_000;
const WARM_SET = 1_000;
const WARM_PER_ROUND = smoke ? 100_000 : 1_000_000;

function publicV4(n: number, seed: number): string[] {
  const next = rng(seed);
  const out: string[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const v = Math.floor(next() * 2 ** 32);
    const ip = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    if (seen.has(ip) || ipKind(parseIp(ip)!) !== 'public') continue;
    seen.add(ip);
    out.push(ip);
  }
  return out;
}

function opsPerSec(fn: (ip: string) => unknown, ips: readonly string[], repeat = 1): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < repeat; r++) for (let i = 0; i < ips.length; i++) if (fn(ips[i]!)) sink++;
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (ips.length * repeat) / (ns / 1e9);
}

const fmt = (n: number) => `${(n / 1000).toFixed(0).padStart(7)} k/s`;

const file = findDbipFiles().find((f) => f.endsWith('ipv4.mmdb'))!;
const raw = await maxmind.open(file); // default: 10,000-entry decoder cache
const db = await openDatabase(file, { source: 'dbip' }); // same decoder cache size
console.log(`database: ${file.split('/').pop()} (${db.type}, built ${db.buildDate}, ${(db.sizeBytes / 2 ** 20).toFixed(0)} MiB)`);
console.log(`rounds: ${ROUNDS}, cold ${COLD_PER_ROUND} new addresses/round, warm ${WARM_PER_ROUND} lookups over ${WARM_SET} addresses/round`);

// Same answers, or the comparison means nothing.
{
  const check = new GeoLocator({ databases: [db], cacheSize: 0 });
  for (const ip of publicV4(2_000, 7)) {
    const a = JSON.stringify(check.locate(ip) ?? null);
    const b = JSON.stringify(recordToLocation(raw.get(ip), 'dbip') ?? null);
    if (a !== b) throw new Error(`answers differ for ${ip}: ${a} vs raw ${b}`);
  }
}

const cold = { ours: [] as number[], raw: [] as number[] };
const warm = { ours: [] as number[], raw: [] as number[] };
const warmSet = publicV4(WARM_SET, 99);
const ours = new GeoLocator({ databases: [db] }); // default 10,000-entry result cache
const oursLocate = (ip: string) => ours.locate(ip);
const rawGet = (ip: string) => raw.get(ip);
// Warm-up, untimed: JIT both paths.
opsPerSec(oursLocate, publicV4(5_000, 1));
opsPerSec(rawGet, publicV4(5_000, 2));

for (let r = 0; r < ROUNDS; r++) {
  const fresh = publicV4(COLD_PER_ROUND, 1000 + r); // same new addresses for both sides
  // Alternate who goes first so neither always runs on a warmer machine.
  const order = r % 2 === 0 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const);
  for (const side of order) cold[side].push(opsPerSec(side === 'ours' ? oursLocate : rawGet, fresh));
  for (const side of order) warm[side].push(opsPerSec(side === 'ours' ? oursLocate : rawGet, warmSet, WARM_PER_ROUND / WARM_SET));
}

const row = (name: string, s: { ours: number[]; raw: number[] }) => {
  const o = median(s.ours);
  const w = median(s.raw);
  console.log(`${name.padEnd(6)} ours ${fmt(o)}   raw maxmind ${fmt(w)}   ratio ours/raw ${(o / w).toFixed(2)}`);
};
console.log('lookups per second (median of rounds):');
row('cold', cold);
row('warm', warm);
console.log(goalLine('cold ratio', median(cold.ours) / median(cold.raw), '>=', 0.9, 'x', 'raw maxmind'));
console.log(`our locator stats: ${JSON.stringify(ours.stats())}`);
