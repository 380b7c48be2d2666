import { spawn, type ChildProcess } from 'node:child_process';
import { wgError } from './errors.js';

/** Paths of the programs the driver runs. Defaults: found on PATH. */
export interface ToolPaths {
  ip: string;
  wg: string;
  wireguardGo: string;
}

export type Tool = keyof ToolPaths;

export const DEFAULT_TOOLS: ToolPaths = { ip: 'ip', wg: 'wg', wireguardGo: 'wireguard-go' };

/** Debian package (and what it is) for each tool, for "install X" messages. */
const PACKAGES: Record<Tool, string> = {
  ip: 'iproute2',
  wg: 'wireguard-tools',
  wireguardGo: 'wireguard-go',
};

const PROGRAM: Record<Tool, string> = { ip: 'ip', wg: 'wg', wireguardGo: 'wireguard-go' };

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
}

const PERMISSION_RE = /Operation not permitted|Permission denied|must be run as root|EPERM|EACCES/i;

function missing(tool: Tool, path: string, cause?: unknown) {
  return wgError(
    'TOOL_MISSING',
    `${PROGRAM[tool]} was not found (${path}): install the Debian package ${PACKAGES[tool]} (apt-get install ${PACKAGES[tool]})`,
    { cause, details: { tool: PROGRAM[tool], package: PACKAGES[tool], path } },
  );
}

/**
 * Runs `ip`, `wg` and `wireguard-go`, inside a network namespace when `netns` is set
 * (`ip netns exec <ns> ...`). Failures become HavenErrors: a missing program names its Debian
 * package, a refusal says to run as root or with CAP_NET_ADMIN.
 */
export class Exec {
  constructor(
    readonly tools: ToolPaths = DEFAULT_TOOLS,
    readonly netns?: string,
  ) {}

  /** The argv that runs `tool args` in the right namespace. */
  argv(tool: Tool, args: string[]): [string, string[]] {
    const bin = this.tools[tool];
    return this.netns ? [this.tools.ip, ['netns', 'exec', this.netns, bin, ...args]] : [bin, args];
  }

  /** Human form for messages (no secrets ever appear in args). */
  describe(tool: Tool, args: string[]): string {
    const [cmd, argv] = this.argv(tool, args);
    return [cmd, ...argv].join(' ');
  }

  spawn(tool: Tool, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const [cmd, argv] = this.argv(tool, args);
    return spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  }

  /** Turn a spawn error or a failed exit into the right HavenError. */
  classify(tool: Tool, args: string[], result: RunResult, spawnError?: NodeJS.ErrnoException): Error {
    const launcher: Tool = this.netns ? 'ip' : tool;
    if (spawnError) {
      if (spawnError.code === 'ENOENT') return missing(launcher, this.tools[launcher], spawnError);
      if (spawnError.code === 'EACCES' || spawnError.code === 'EPERM') return this.denied(tool, args, spawnError.code, spawnError);
      return wgError('COMMAND_FAILED', `${this.describe(tool, args)} could not start (${spawnError.code ?? spawnError.message})`, { cause: spawnError });
    }
    const stderr = result.stderr.trim();
    const execFailed = /exec of "(.*)" failed: (.*)$/m.exec(stderr);
    if (this.netns && execFailed) {
      if (/No such file/.test(execFailed[2]!)) return missing(tool, this.tools[tool]);
      if (PERMISSION_RE.test(execFailed[2]!)) return this.denied(tool, args, execFailed[2]!);
    }
    if (PERMISSION_RE.test(stderr)) return this.denied(tool, args, (PERMISSION_RE.exec(stderr) ?? [''])[0]);
    // wg echoes a key it cannot parse ("Key is not the correct length or format: `...'"): mask it.
    const safe = stderr.replace(/`[^'\n]*'/g, '`[redacted]\'').slice(0, 300);
    return wgError('COMMAND_FAILED', `${this.describe(tool, args)} failed (exit ${result.code}): ${safe || 'no output'}`, {
      details: { exitCode: result.code },
    });
  }

  denied(tool: Tool, args: string[], reason: string, cause?: unknown) {
    return wgError(
      'PERMISSION_DENIED',
      `${this.describe(tool, args)} was refused (${reason}): managing network interfaces needs root or CAP_NET_ADMIN (in Docker: --cap-add NET_ADMIN --device /dev/net/tun)`,
      { cause, details: { tool: PROGRAM[tool] } },
    );
  }

  /** Run to completion. Throws a classified HavenError unless `allowFail`. */
  run(tool: Tool, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const [cmd, argv] = this.argv(tool, args);
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let spawnError: NodeJS.ErrnoException | undefined;
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err: NodeJS.ErrnoException) => (spawnError = err));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        const result = { code: spawnError ? -1 : code, stdout, stderr };
        if (spawnError) return reject(this.classify(tool, args, result, spawnError));
        if (code !== 0 && !options.allowFail) return reject(this.classify(tool, args, result));
        if (code !== 0 && options.allowFail && (PERMISSION_RE.test(stderr) || /exec of ".*" failed/.test(stderr))) {
          // Even tolerant callers must hear about a missing tool or a refusal.
          const err = this.classify(tool, args, result);
          if (!/COMMAND_FAILED/.test(String((err as { code?: string }).code))) return reject(err);
        }
        resolve(result);
      });
    });
  }
}
