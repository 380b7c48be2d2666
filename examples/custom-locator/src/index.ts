import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { definePlugin, HavenError, normalizeIp, type Locator, type ViewerLocation } from '@haven/core';
import { z } from 'zod';
import { parseCsv } from './csv.js';

export { parseCsv, type CsvRow } from './csv.js';

export const csvLocatorOptions = z.strictObject({
  /** Path of the CSV file (`cidr,place[,country][,city]`). One of `file` or `csv` is required. */
  file: z.string().min(1).optional(),
  /** The CSV text itself. */
  csv: z.string().optional(),
});
export type CsvLocatorOptions = z.input<typeof csvLocatorOptions>;

/** A Locator over CSV rows: most specific network first, IPv4-mapped IPv6 handled. */
export function createCsvLocator(text: string, source = 'csv'): Locator {
  const entries = parseCsv(text, source).map((row) => {
    const list = new BlockList();
    list.addSubnet(row.network, row.prefix, row.family === 6 ? 'ipv6' : 'ipv4');
    return { list, family: row.family === 6 ? ('ipv6' as const) : ('ipv4' as const), location: row.location };
  });
  return {
    name: 'csv-locator',
    capabilities: { ipv6: true, updates: false },
    locate(ip: string): ViewerLocation | undefined {
      if (typeof ip !== 'string' || ip.length > 64) return undefined;
      const addr = normalizeIp(ip);
      const family = isIP(addr);
      if (family === 0) return undefined;
      const type = family === 6 ? 'ipv6' : 'ipv4';
      for (const e of entries) {
        if (e.family === type && e.list.check(addr, type)) return { ...e.location };
      }
      return undefined;
    },
    describe: () => ({ source: `CSV (${entries.length} networks)` }),
  };
}

/** The plugin: `plugins: { csv-locator: { file: places.csv } }` in haven.yaml. */
export function csvLocator(options?: CsvLocatorOptions) {
  if (options !== undefined) {
    const r = csvLocatorOptions.safeParse(options);
    if (!r.success) {
      throw new HavenError(r.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '), { code: 'OPTIONS_INVALID', plugin: 'csv-locator' });
    }
  }
  return definePlugin({
    name: 'csv-locator',
    schema: csvLocatorOptions,
    options,
    setup(ctx) {
      const { file, csv } = ctx.options;
      if (!file && csv === undefined) {
        throw new HavenError('give `file` (a CSV path) or `csv` (its text)', { code: 'OPTIONS_INVALID', plugin: 'csv-locator' });
      }
      let text = csv ?? '';
      if (file) {
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new HavenError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { code: 'CSV_READ', plugin: 'csv-locator', cause: err });
        }
      }
      const locator = createCsvLocator(text, file ?? 'csv');
      ctx.logger.info({ source: locator.describe?.().source }, 'csv locator ready');
      return { locator };
    },
  });
}
