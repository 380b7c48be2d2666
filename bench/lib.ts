import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Shared by the benchmarks: smoke mode, a deterministic PRNG (mulberry32), free ports, worker entry. */
export const smoke = process.env.BENCH_SMOKE === '1';

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Same seed, same sequence: every run measures the same inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A benchmark file doubles as its own load worker: run with `--<flag> <json>` it runs `worker` and
 * prints its JSON result; otherwise it runs `main`.
 */
export async function mainOrWorker<P, R>(flag: string, worker: (params: P) => Promise<R>, main: () => Promise<void>): Promise<void> {
  const at = process.argv.indexOf(`--${flag}`);
  if (at > 0) process.stdout.write(JSON.stringify(await worker(JSON.parse(process.argv[at + 1] as string) as P)));
  else {
    // The measured process runs as the app does (`node dist/cli.js`, no source maps): under tsx every
    // error's stack was mapped through source maps, which in a redirect load (an ECONNRESET per viewer
    // that resets after its 302) was 3-4% of the gateway's samples that the app never pays.
    process.setSourceMapsEnabled(false);
    await main();
  }
}

/**
 * The other side of `mainOrWorker`: run the benchmark file `fileUrl` (its `import.meta.url`) as its own
 * worker process with `--<flag> <params>`, so the load does not share the measured event loop; its result.
 */
export async function runWorker<P, R>(fileUrl: string, flag: string, params: P): Promise<R> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(fileUrl), `--${flag}`, JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the --${flag} worker exited with ${code}`);
  return JSON.parse(out) as R;
}

/** The `q` quantile (0..1) of a list, by rank. */
export const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

/**
 * The line that says whether a figure meets the goal of the performance table (README), e.g.
 * `ratio 0.92x (goal ≥ 1.0x MediaMTX): missed`. `unit` follows the numbers (`x`, ` ms`); `of` names
 * the peer or what is measured.
 */
export function goalLine(what: string, value: number, op: '>=' | '<=' | '<', goal: number, unit: string, of = ''): string {
  const met = op === '>=' ? value >= goal : op === '<=' ? value <= goal : value < goal;
  const sign = op === '>=' ? '≥' : op === '<=' ? '≤' : '<';
  const digits = unit === 'x' ? 2 : 1;
  return `${what} ${value.toFixed(digits)}${unit} (goal ${sign} ${goal.toFixed(1)}${unit}${of ? ` ${of}` : ''}): ${met ? 'met' : 'missed'}`;
}

/** A loopback TCP port that was free a moment ago (the tests' helper). */
export { freePort } from '../test/helpers/process.js';

/**
 * CPU time (user + system) of a process so far, ms, from /proc (Linux, as the benchmark machine); of
 * its main thread only with `mainThread` (a Node process's GC and compiler threads left out).
 */
export function procCpuMs(pid: number | undefined, mainThread = false): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}
/** Linux's USER_HZ: /proc's CPU times are in these. */
const CLOCK_TICKS = 100;
