import { readdirSync, readFileSync } from 'node:fs';

/** How long `haven start` gives its own stop before it ends its children itself and exits. */
export const STOP_DEADLINE_MS = 8_000;

/** This process's direct children (Linux: /proc/self/task/<tid>/children), empty where unknown. */
export function childPids(): number[] {
  const pids = new Set<number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
      for (const p of text ? text.split(/\s+/) : []) pids.add(Number(p));
    }
  } catch {
    // No /proc (not Linux): the supervisors' own stop is all there is.
  }
  return [...pids].filter((p) => Number.isInteger(p) && p > 0);
}

/**
 * A stop that finishes whatever happens: if the Haven's stop has not resolved by the deadline
 * (a child that ignores SIGTERM, a hung teardown), every child still running is killed and the
 * process exits non-zero. The timer does not keep the process alive by itself.
 */
export function armStopDeadline(say: (line: string) => void, ms = STOP_DEADLINE_MS): void {
  setTimeout(() => {
    const left = childPids();
    say(`the stop did not finish within ${ms / 1000} s: ending ${left.length} child process(es) and exiting`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    process.exit(1);
  }, ms).unref();
}
