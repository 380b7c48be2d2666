import path from 'node:path';
import { definePlugin, ensureStateDir, HavenError, type PluginContext, type PluginInstance } from '@haven/core';
import { openDatabase, type GeoDatabase } from './database.js';
import { findDbipFiles, INSTALL_HINT } from './default-db.js';
import { geoError, PLUGIN } from './errors.js';
import { GeoLocator } from './locator.js';
import { compileOverrides } from './overrides.js';
import { geoipOptionsSchema, parseGeoipOptions, type GeoipOptions, type ResolvedGeoipOptions } from './options.js';
import { MaxmindUpdater } from './updater.js';

/** Open what `database` names: `dbip` (the npm package), `none`, or a file path. */
export async function openConfiguredDatabases(database: string, recordCacheSize: number, baseDir = process.cwd()): Promise<GeoDatabase[]> {
  if (database === 'none') return [];
  if (database === 'dbip') {
    const files = findDbipFiles();
    return Promise.all(files.map((f) => openDatabase(f, { source: 'dbip', recordCacheSize })));
  }
  return [await openDatabase(path.resolve(baseDir, database), { recordCacheSize })];
}

export interface GeoPluginInstance extends PluginInstance {
  locator: GeoLocator;
  /** The MaxMind updater when `maxmind` is configured (tests and the CLI trigger `update()`). */
  readonly updater: MaxmindUpdater | undefined;
}

function setupGeo(ctx: PluginContext<ResolvedGeoipOptions>): GeoPluginInstance {
  // Core hands parsed options; parse again when called directly (tests, embedding) with raw input.
  const o = parseGeoipOptions(ctx.options ?? {});
  const emit = (error: HavenError) => ctx.events.emit('error', { error, source: PLUGIN });
  const locator = new GeoLocator({ overrides: compileOverrides(o.overrides), cacheSize: o.cacheSize, onError: emit, updates: !!o.maxmind });
  let updater: MaxmindUpdater | undefined;

  const loaded = (dbs: GeoDatabase[], why: string) => {
    locator.setDatabases(dbs);
    ctx.logger.info({ databases: dbs.map((d) => ({ path: d.path, type: d.type, buildDate: d.buildDate })), why }, 'geo database loaded');
  };

  return {
    locator,
    get updater() {
      return updater;
    },
    async start() {
      const openBase = () => openConfiguredDatabases(o.database, o.recordCacheSize);
      if (!o.maxmind) {
        loaded(await openBase(), o.database);
        return;
      }
      const dir = await ensureStateDir(path.join(ctx.stateDir, PLUGIN), PLUGIN);
      updater = new MaxmindUpdater({
        ...o.maxmind,
        dir,
        recordCacheSize: o.recordCacheSize,
        onDatabase: (db) => loaded([db], 'maxmind update'),
        onError: emit,
        log: (msg, fields) => ctx.logger.info(fields ?? {}, msg),
      });
      const local = await updater.loadLocal();
      // The base database is only opened when no MaxMind copy is kept (it can be 135 MB in memory).
      const base = local ? [] : await openBase().catch((err: unknown) => err as HavenError);
      if (local) loaded([local], 'maxmind (kept from an earlier download)');
      else if (Array.isArray(base) && base.length > 0) loaded(base, `${o.database} until the first MaxMind download`);
      else {
        // Nothing to answer with yet: the first download is part of starting.
        const r = await updater.update();
        if (r.status !== 'updated') {
          await updater.stop();
          const why = r.status === 'failed' ? r.error.message : 'the server answered "not modified" but there is no local copy';
          throw geoError('GEO_DB_MISSING', `no GeoIP database: the MaxMind download failed (${why}); ${INSTALL_HINT}`, {
            cause: r.status === 'failed' ? r.error : base,
          });
        }
      }
      updater.start();
    },
    async stop() {
      await updater?.stop();
      // Free the databases (up to ~135 MB); a later start() opens them again.
      locator.setDatabases([]);
    },
    status() {
      return { ...locator.describe(), ...locator.stats(), ...(updater ? { maxmind: updater.status() } : {}) };
    },
  };
}

/**
 * The geo plugin: a `Locator` over DB-IP Lite City (default, no account needed), a `.mmdb` file, or
 * MaxMind GeoLite2/GeoIP2 kept fresh with a licence key; CIDR overrides first.
 *
 *   createHaven(config, [geoip({ overrides: [{ cidr: '192.168.0.0/16', region: 'eu-central' }] })])
 */
export function geoip(options?: GeoipOptions) {
  if (options !== undefined) parseGeoipOptions(options);
  return definePlugin({
    name: PLUGIN,
    schema: geoipOptionsSchema,
    options,
    setup: setupGeo,
  });
}
