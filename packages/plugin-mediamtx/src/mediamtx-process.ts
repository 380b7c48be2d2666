import { PLUGIN_NAME } from './errors.js';
import type { MediaMtxServerInit } from './server-init.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

/**
 * The supervised MediaMTX process of a server: restarted with backoff, its output logged with the
 * secrets masked, its restarts and failures reported as Haven events.
 */
export function mediamtxSupervisor(
  init: MediaMtxServerInit,
  configFile: string,
  o: {
    /** Answers once MediaMTX is up (its Control API). */
    probe: SupervisorOptions['probe'];
    /** Masks the secrets in a line of MediaMTX's output. */
    sanitize: (line: string) => string;
    /** MediaMTX died on its own: what watched its paths must start again from nothing. */
    onUnexpectedExit: () => void;
  },
): Supervisor {
  const log = init.logger;
  return new Supervisor({
    label: 'MediaMTX',
    command: init.binary,
    args: [configFile],
    cwd: init.workDir,
    // MTX_* variables override the config file (auth included): never inherit them.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTX_'))),
    probe: o.probe,
    startTimeoutMs: init.options.startTimeoutMs,
    stopGraceMs: init.options.stopGraceMs,
    restartDelayMs: init.options.restartDelayMs,
    restartMaxDelayMs: init.options.restartMaxDelayMs,
    sanitize: o.sanitize,
    onLine: (line) => log.debug({ line }, 'mediamtx output'),
    onExit: ({ code, signal, expected }) => {
      if (expected) return;
      log.warn({ code, signal }, 'MediaMTX exited unexpectedly; restarting it');
      o.onUnexpectedExit();
    },
    onRestart: ({ attempt, pid }) => {
      log.warn({ attempt, pid }, 'MediaMTX restarted');
      init.events?.emit('process:restarted', { plugin: PLUGIN_NAME, process: 'mediamtx', attempt, ...(pid ? { pid } : {}) });
    },
    onError: (error) => {
      log.error({ err: error }, 'MediaMTX restart failed; trying again');
      init.events?.emit('error', { error, source: PLUGIN_NAME });
    },
  });
}
