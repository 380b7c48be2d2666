import type { ingestDoctorChecks } from '@haven/ingest';
import type { Loaded } from '../home/loaded.js';

/** One line of `haven doctor`: what was found and, unless all is well, what to do. */
export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  what: string;
  fix?: string;
}

/** A check looks at one thing; it never throws (a failure to look is a finding too). */
export type Check = (ctx: DoctorContext) => Promise<Finding[]> | Finding[];

export interface DoctorContext {
  l: Loaded;
  env: NodeJS.ProcessEnv;
  /** The running origin's status, when it answers. */
  running?:
    | {
        nodes: Array<{ name: string; origin: boolean; health: string; reason?: string }>;
        streams?: Parameters<typeof ingestDoctorChecks>[0]['streams'];
        /** Set while the running gateway still listens as it did at start (see `exposureChange`). */
        exposure?: { mode: 'private' | 'public'; why: string; change?: string };
      }
    | undefined;
}
