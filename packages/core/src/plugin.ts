import type { z } from 'zod';
import type { HealthProbe, HavenSecrets, Locator, MediaServer, Vpn } from './contracts.js';
import type { HavenEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { HavenConfig } from './config/schema.js';
import type { SecretStore } from './secrets.js';
import type { ViewerTokenKey } from './token-key.js';

/** What a plugin's `setup` receives. */
export interface PluginContext<O = unknown> {
  /** The plugin's own options, parsed by its schema (code options over the `plugins.<name>` section). */
  options: O;
  /** The whole validated config (core part). */
  config: HavenConfig;
  role: HavenConfig['role'];
  /** Absolute state directory (mode 0700). Plugins keep their own files under `<stateDir>/<plugin>/`. */
  stateDir: string;
  logger: Logger;
  events: HavenEmitter;
  secrets: SecretStore;
  /**
   * The Haven's viewer token key: a media server verifies the gateways' tokens with it (its own key and
   * the ones it accepts now), an HTTPS entry signs with it. Absent (a context built by hand): no tokens.
   */
  tokenKey?: ViewerTokenKey;
  /** Contracts provided by plugins set up earlier in the list (e.g. the media server reads the VPN address). */
  provided: ProvidedContracts;
}

/** What a plugin hands back from `setup`. Every member is optional: provide what you implement. */
export interface PluginInstance {
  mediaServer?: MediaServer;
  vpn?: Vpn;
  locator?: Locator;
  probes?: HealthProbe[];
  /** Called in plugin order after every plugin is set up. */
  start?(): Promise<void>;
  /** Called in reverse order; must be safe to call twice and resolve only when processes have exited. */
  stop?(): Promise<void>;
  /** Secrets rotated: apply without restarting where possible. */
  onSecrets?(secrets: HavenSecrets): Promise<void>;
  /** A small, secret-free status object for `haven status`. */
  status?(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface ProvidedContracts {
  mediaServer?: MediaServer;
  vpn?: Vpn;
  locator?: Locator;
  probes: HealthProbe[];
}

export interface HavenPlugin<S extends z.ZodType = z.ZodType> {
  /** `[a-z][a-z0-9-]*`; also the key of its section under `plugins:` in haven.yaml. */
  readonly name: string;
  /** zod schema of the plugin's options; unknown keys should be rejected (`z.strictObject`). */
  readonly schema: S;
  /** Options given in code. They win over the config file's section, key by key. */
  readonly options?: Partial<z.input<S>>;
  setup(ctx: PluginContext<z.output<S>>): Promise<PluginInstance> | PluginInstance;
}

/** Identity helper that keeps the schema's types flowing into `setup`. */
export function definePlugin<S extends z.ZodType>(plugin: HavenPlugin<S>): HavenPlugin<S> {
  return plugin;
}
