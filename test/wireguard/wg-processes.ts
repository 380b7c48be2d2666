import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Pids of wireguard-go processes serving any of these interfaces (leftover check). */
export async function wireguardGoPids(interfaces: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    if (argv.some((a) => path.basename(a) === 'wireguard-go') && interfaces.includes(argv[argv.length - 1] ?? '')) {
      // A zombie has an empty cmdline, so anything found here is really running.
      out.push(Number(entry));
    }
  }
  return out;
}
