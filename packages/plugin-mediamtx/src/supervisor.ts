import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { toHavenError, type HavenError } from '@haven/core';
import { mtxError } from './errors.js';

export interface SupervisorOptions {
  /** Shown in messages, e.g. `MediaMTX`. */
  label: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the process serves (e.g. its API answers). Polled until `startTimeoutMs`. */
  probe(signal: AbortSignal): Promise<boolean>;
  startTimeoutMs: number;
  stopGraceMs: number;
  /** First restart delay; doubled per consecutive failure up to `restartMaxDelayMs`. */
  restartDelayMs: number;
  restartMaxDelayMs: number;
  /** Up this long after a (re)start resets the backoff. Default 30000. */
  stableMs?: number;
  /** What to do when the binary cannot be run. Default: how to get MediaMTX. */
  missingHint?: string;
  /** Applied to every output line before it is kept or passed on. */
  sanitize?: (line: string) => string;
  onLine?(line: string): void;
  onExit?(info: ExitInfo & { expected: boolean; pid: number | undefined }): void;
  onRestart?(info: { attempt: number; pid: number | undefined }): void;
  /** A restart attempt failed; another one is scheduled. */
  onError?(error: HavenError): void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type State = 'idle' | 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

interface Run {
  child: ChildProcess;
  exit: Promise<ExitInfo>;
  spawnError?: NodeJS.ErrnoException;
}

const TAIL_LINES = 20;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs one child process: start and wait until it serves, restart it with exponential backoff when it
 * dies on its own, stop it with SIGTERM then SIGKILL. stop() is safe twice and resolves after exit.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  #state: State = 'idle';
  #run: Run | undefined;
  #attempt = 0;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  readonly #tail: string[] = [];

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  get pid(): number | undefined {
    return this.#state === 'running' ? this.#run?.child.pid : undefined;
  }

  get state(): State {
    return this.#state;
  }

  /** Restarts after unexpected exits since start(). */
  get restarts(): number {
    return this.#restarts;
  }

  /** The last output lines (sanitized), for error messages and status. */
  tail(): string[] {
    return [...this.#tail];
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle' && this.#state !== 'stopped') {
      throw mtxError('START_FAILED', `${this.#o.label} is already ${this.#state}`);
    }
    this.#stopping = undefined;
    this.#attempt = 0;
    this.#state = 'starting';
    try {
      await this.#launch();
    } catch (err) {
      if (this.#state === 'starting') this.#state = 'stopped';
      throw err;
    }
    if (this.#state !== 'starting') return; // stopped meanwhile
    this.#state = 'running';
    this.#armStable();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    const run = this.#run;
    if (run) await this.#kill(run);
    this.#state = 'stopped';
  }

  async #kill(run: Run): Promise<void> {
    const { child } = run;
    if (child.exitCode === null && child.signalCode === null && !run.spawnError) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), this.#o.stopGraceMs);
      await run.exit;
      clearTimeout(t);
    }
    await run.exit;
  }

  #spawn(): Run {
    const child = spawn(this.#o.command, this.#o.args, {
      cwd: this.#o.cwd,
      env: this.#o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: Run = { child, exit: Promise.resolve({ code: null, signal: null }) };
    run.exit = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err: NodeJS.ErrnoException) => {
        run.spawnError = err;
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (raw) => {
        const line = this.#o.sanitize ? this.#o.sanitize(raw) : raw;
        this.#tail.push(line);
        if (this.#tail.length > TAIL_LINES) this.#tail.shift();
        this.#o.onLine?.(line);
      });
    }
    void run.exit.then((info) => this.#onExit(run, info));
    return run;
  }

  async #launch(): Promise<void> {
    this.#tail.length = 0;
    const run = this.#spawn();
    this.#run = run;
    let exited: ExitInfo | undefined;
    void run.exit.then((e) => (exited = e));
    const deadline = Date.now() + this.#o.startTimeoutMs;
    for (;;) {
      if (run.spawnError?.code === 'ENOENT' || run.spawnError?.code === 'EACCES') {
        throw mtxError(
          'BINARY_MISSING',
          `${this.#o.label} binary "${this.#o.command}" cannot be run (${run.spawnError.code}): ${this.#o.missingHint ?? 'install MediaMTX, set MEDIAMTX_BIN or the binary option (bash scripts/get-mediamtx.sh builds one)'}`,
          { cause: run.spawnError, details: { binary: this.#o.command } },
        );
      }
      if (exited || run.spawnError) {
        await sleep(20); // let the last output lines arrive
        const how = exited?.signal ? `signal ${exited.signal}` : `code ${exited?.code ?? '?'}`;
        // The reason (a port in use, a bad certificate) is an ERR line, often followed by shutdown lines.
        const errors = this.#tail.filter((l) => /\bERR\b/.test(l)).slice(-3);
        const output = [...errors, ...this.#tail.slice(-5).filter((l) => !errors.includes(l))];
        const tail = output.join(' | ');
        throw mtxError('START_FAILED', `${this.#o.label} exited with ${how} while starting${tail ? `: ${tail}` : ''}`, {
          cause: run.spawnError,
          details: { code: exited?.code, signal: exited?.signal, output },
        });
      }
      if (this.#state === 'stopping' || this.#state === 'stopped') return;
      const ok = await this.#o.probe(AbortSignal.timeout(1_000)).catch(() => false);
      if (ok && !exited) return;
      if (Date.now() > deadline) {
        await this.#kill(run);
        throw mtxError('START_TIMEOUT', `${this.#o.label} did not answer within ${this.#o.startTimeoutMs} ms; it was stopped`, {
          details: { output: this.#tail.slice(-5) },
        });
      }
      await Promise.race([sleep(100), run.exit]);
    }
  }

  #onExit(run: Run, info: ExitInfo): void {
    if (run !== this.#run) return;
    const expected = this.#state !== 'running';
    this.#o.onExit?.({ ...info, expected, pid: run.child.pid });
    if (expected) return;
    clearTimeout(this.#stableTimer);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    this.#attempt++;
    const delay = Math.min(this.#o.restartMaxDelayMs, this.#o.restartDelayMs * 2 ** (this.#attempt - 1));
    this.#state = 'restarting';
    this.#restartTimer = setTimeout(() => void this.#restart(), delay);
  }

  async #restart(): Promise<void> {
    if (this.#state !== 'restarting') return;
    try {
      await this.#launch();
    } catch (err) {
      if (this.#state !== 'restarting') return;
      this.#o.onError?.(toHavenError(err, { code: 'START_FAILED', plugin: 'mediamtx' }));
      this.#scheduleRestart();
      return;
    }
    if (this.#state !== 'restarting') return;
    this.#state = 'running';
    this.#restarts++;
    this.#armStable();
    this.#o.onRestart?.({ attempt: this.#attempt, pid: this.#run?.child.pid });
  }

  #armStable(): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => (this.#attempt = 0), this.#o.stableMs ?? 30_000);
    this.#stableTimer.unref();
  }
}
