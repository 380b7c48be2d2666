import path from 'node:path';
import type { HavenSecrets, SecretName } from './contracts.js';
import { validateConfig, type LoadedConfig } from './config/load.js';
import { applyNodeChanges, type LiveApplyResult } from './live-config.js';
import type { HavenConfig, HavenConfigInput } from './config/schema.js';
import { exposureReason, originExposure } from './routing/exposure.js';
import { HavenError, toHavenError } from './errors.js';
import { HavenEmitter } from './events.js';
import { createLogger, SecretRedactor, type Logger } from './logger.js';
import type { HavenPlugin, PluginInstance, ProvidedContracts } from './plugin.js';
import { SecretStore } from './secrets.js';
import { ViewerTokenKey } from './token-key.js';
import { loadTokenKey } from './token-key-file.js';
import type { CoreServices, CoreServicesFactory } from './services.js';

export type HavenState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface CreateHavenOptions {
  /** Use this logger instead of a new pino logger at the config's level. */
  logger?: Logger;
  /** Override the state directory (default: config `stateDir`, resolved against `baseDir`). */
  stateDir?: string;
  /** Folder relative paths in the config are resolved against. Default: cwd. */
  baseDir?: string;
  /** Use these secrets instead of the state directory's (embedding, tests). */
  secrets?: HavenSecrets;
  /** Redactor shared with a caller-provided logger. */
  redactor?: SecretRedactor;
  /**
   * The services started after the plugins: registry, health, router and the viewer doors for the
   * role (`gatewayServices` from `@haven/gateway`). Absent: plugins only (no routing, no doors).
   */
  services?: CoreServicesFactory;
}

export interface Haven {
  readonly config: HavenConfig;
  readonly events: HavenEmitter;
  readonly logger: Logger;
  readonly state: HavenState;
  readonly stateDir: string;
  /** Contracts the plugins provided (after start). */
  readonly provided: ProvidedContracts;
  /** Core services (registry, health, gateway) once started. */
  readonly services: CoreServices;
  secrets(): HavenSecrets;
  /**
   * This gateway's viewer token key (after start): its own Ed25519 pair from the state directory, and
   * the public keys it accepts (set with `acceptFrom` by whoever knows the Haven's entries).
   */
  tokenKey(): ViewerTokenKey;
  start(): Promise<void>;
  /** Reverse order; safe to call twice; resolves when every plugin has stopped. */
  stop(): Promise<void>;
  rotateSecret(name: SecretName): Promise<void>;
  /** Take secrets made elsewhere (a node follows the origin's viewer password); plugins see them. */
  adoptSecrets(values: Partial<HavenSecrets>): Promise<void>;
  /**
   * Apply an edited config while running: node changes (VPN peers, registry) take effect at once
   * without dropping current viewers; other changes are reported as needing a restart. A config
   * that cannot be applied throws and the running config stays as it was.
   */
  applyConfig(next: LoadedConfig): Promise<LiveApplyResult>;
  status(): Promise<Record<string, unknown>>;
}

interface Started {
  name: string;
  /** A plugin (announced with plugin:* events) or one of core's services. */
  plugin: boolean;
  stop?: () => Promise<void>;
}

function isLoaded(v: unknown): v is LoadedConfig {
  return !!v && typeof v === 'object' && 'config' in v && 'pluginOptions' in v && 'stateDir' in v;
}

/**
 * The composition root: validates config, sets plugins up in the order given, starts them in that
 * order, then core's own services; stops everything in reverse. A failed start stops what started.
 */
export function createHaven(input: HavenConfigInput | LoadedConfig, plugins: HavenPlugin[], options: CreateHavenOptions = {}): Haven {
  const names = new Set<string>();
  for (const p of plugins) {
    if (!p || typeof p.name !== 'string' || typeof p.setup !== 'function' || !p.schema) {
      throw new HavenError('a plugin must have a name, a zod schema and a setup function (use definePlugin)', { code: 'PLUGIN_INVALID' });
    }
    if (names.has(p.name)) throw new HavenError(`plugin "${p.name}" is listed twice`, { code: 'PLUGIN_CONFLICT' });
    names.add(p.name);
  }
  const loaded = isLoaded(input)
    ? input
    : (() => {
        const v = validateConfig(input, plugins);
        const base = options.baseDir ?? process.cwd();
        return { ...v, file: 'config', stateDir: path.resolve(base, v.config.stateDir) } satisfies LoadedConfig;
      })();
  let config = loaded.config;
  const stateDir = path.resolve(options.stateDir ?? loaded.stateDir);
  const redactor = options.redactor ?? new SecretRedactor();
  const logger = options.logger ?? createLogger({ level: config.log.level, redactor, name: `haven-${config.role}` });
  const events = new HavenEmitter();
  const provided: ProvidedContracts = { probes: [] };
  let services: CoreServices = { list: [] };
  let store: SecretStore | undefined;
  let tokenKey: ViewerTokenKey | undefined;
  let state: HavenState = 'idle';
  let started: Started[] = [];
  const instances = new Map<string, PluginInstance>();
  let stopping: Promise<void> | undefined;
  let applying: Promise<void> = Promise.resolve();

  // Background failures become events; an emitter with no listener must not crash the process.
  events.on('error', ({ error, source }) => logger.error({ err: error, source }, error.message));

  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const s of [...started].reverse()) {
      try {
        await s.stop?.();
        if (s.plugin) events.emit('plugin:stopped', { name: s.name });
      } catch (err) {
        errors.push(err);
        events.emit('error', { error: toHavenError(err, { code: 'STOP_FAILED', plugin: s.name, message: `stopping ${s.name} failed` }), source: s.name });
      }
    }
    started = [];
    if (errors.length > 0) {
      throw new HavenError(`${errors.length} part(s) failed to stop cleanly`, { code: 'STOP_FAILED', cause: errors[0] });
    }
  };

  const haven: Haven = {
    get config() {
      return config;
    },
    events,
    logger,
    stateDir,
    provided,
    get state() {
      return state;
    },
    get services() {
      return services;
    },
    secrets() {
      if (!store) throw new HavenError('the Haven is not started', { code: 'NOT_STARTED' });
      return store.get();
    },
    tokenKey() {
      if (!tokenKey) throw new HavenError('the Haven is not started', { code: 'NOT_STARTED' });
      return tokenKey;
    },
    async start() {
      if (state !== 'idle' && state !== 'stopped' && state !== 'failed') {
        throw new HavenError(`cannot start a Haven that is ${state}`, { code: 'START_FAILED' });
      }
      state = 'starting';
      try {
        store = options.secrets ? SecretStore.fromValues(options.secrets, redactor) : await SecretStore.open(stateDir, redactor);
        // Embedded with given secrets: a key for this run only (nothing touches the disk).
        tokenKey ??= options.secrets ? new ViewerTokenKey() : await loadTokenKey(stateDir);
        store.on('rotated', (name, secrets) => {
          applying = onRotated(name, secrets);
        });
        for (const plugin of plugins) {
          const log = logger.child({ plugin: plugin.name });
          let instance: PluginInstance;
          try {
            instance = await plugin.setup({
              options: loaded.pluginOptions[plugin.name] as never,
              config,
              role: config.role,
              stateDir,
              logger: log,
              events,
              secrets: store,
              tokenKey,
              provided,
            });
          } catch (err) {
            throw toHavenError(err, { code: 'START_FAILED', plugin: plugin.name, message: `setting up ${plugin.name} failed` });
          }
          instances.set(plugin.name, instance);
          if (instance.mediaServer) setOnce('mediaServer', instance.mediaServer, plugin.name);
          if (instance.vpn) setOnce('vpn', instance.vpn, plugin.name);
          if (instance.locator) setOnce('locator', instance.locator, plugin.name);
          if (instance.probes) provided.probes.push(...instance.probes);
          // Registered before start so a half-started plugin is still stopped on rollback.
          started.push({ name: plugin.name, plugin: true, stop: instance.stop?.bind(instance) });
          try {
            await instance.start?.();
          } catch (err) {
            throw toHavenError(err, { code: 'START_FAILED', plugin: plugin.name, message: `starting ${plugin.name} failed` });
          }
          events.emit('plugin:started', { name: plugin.name });
          log.info('started');
        }
        services = options.services ? await options.services({ config, events, logger, provided, secrets: store, tokenKey, stateDir }) : { list: [] };
        for (const svc of services.list) {
          started.push({ name: svc.name, plugin: false, stop: svc.stop.bind(svc) });
          await svc.start();
        }
        state = 'running';
        logger.info({ role: config.role, name: config.name }, 'haven running');
      } catch (err) {
        state = 'failed';
        const error = toHavenError(err, { code: 'START_FAILED', message: 'start failed' });
        logger.error({ err: error }, 'start failed; stopping what already started');
        await stopAll().catch(() => {});
        throw error;
      }
    },
    async stop() {
      if (state === 'idle' || state === 'stopped') {
        state = state === 'idle' ? 'idle' : 'stopped';
        return;
      }
      if (stopping) return stopping;
      state = 'stopping';
      stopping = stopAll().finally(() => {
        state = 'stopped';
        stopping = undefined;
        logger.info('haven stopped');
      });
      return stopping;
    },
    async rotateSecret(name) {
      if (!store) throw new HavenError('the Haven is not started', { code: 'NOT_STARTED' });
      await store.rotate(name);
      // Plugins have taken the new value (or reported an error event) when this resolves.
      await applying;
    },
    async adoptSecrets(values) {
      if (!store) throw new HavenError('the Haven is not started', { code: 'NOT_STARTED' });
      await store.adopt(values);
      await applying;
    },
    async applyConfig(next) {
      if (state !== 'running') throw new HavenError(`cannot apply a config to a Haven that is ${state}`, { code: 'NOT_STARTED' });
      const result = await applyNodeChanges({
        current: config,
        next,
        logger,
        ...(services.registry ? { registry: services.registry } : {}),
        ...(provided.vpn ? { vpn: provided.vpn } : {}),
      });
      const exposureBefore = config.role === 'origin' ? originExposure(config) : undefined;
      // Nodes and exposure apply live; an exposure removed from the file goes back to the default.
      if (next.config.role === 'origin' && config.role === 'origin') {
        const { exposure: _running, ...rest } = config;
        const { nodes, exposure } = next.config;
        config = { ...rest, nodes, ...(exposure ? { exposure } : {}) };
      }
      if (config.role === 'origin' && exposureBefore !== originExposure(config)) {
        logger.warn({ exposure: originExposure(config) }, `this origin is ${originExposure(config)} now (${exposureReason(config)}): node credentials and viewer URLs follow at once; the gateway keeps its listeners until the next \`haven start\``);
      }
      events.emit('config:applied', { added: result.added, removed: result.removed, changed: result.changed });
      logger.info({ added: result.added, removed: result.removed, changed: result.changed }, 'config applied');
      return result;
    },
    async status() {
      const parts: Record<string, unknown> = {};
      for (const [name, inst] of instances) {
        if (inst.status) parts[name] = await inst.status();
      }
      return { role: config.role, name: config.name, state, plugins: parts };
    },
  };

  function setOnce<K extends 'mediaServer' | 'vpn' | 'locator'>(key: K, value: NonNullable<ProvidedContracts[K]>, by: string): void {
    if (provided[key]) {
      throw new HavenError(`two plugins provide ${key}; keep one (second: ${by})`, { code: 'PLUGIN_CONFLICT', plugin: by });
    }
    provided[key] = value;
  }

  async function onRotated(name: SecretName, secrets: HavenSecrets): Promise<void> {
    for (const [pname, inst] of instances) {
      try {
        await inst.onSecrets?.(secrets);
      } catch (err) {
        events.emit('error', { error: toHavenError(err, { code: 'START_FAILED', plugin: pname, message: 'applying rotated secrets failed' }), source: pname });
      }
    }
    events.emit('secrets:rotated', { name });
  }

  return haven;
}

