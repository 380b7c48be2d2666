import { reasonOf } from './errors.js';

/**
 * A short description of why the reader failed on a record. The `maxmind` decoder follows pointers
 * recursively, so a pointer cycle or absurd nesting in a damaged file ends in a RangeError (stack
 * overflow) rather than a hang: it is caught at the call site and named here.
 */
export function lookupProblem(err: unknown): string {
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return 'pointer cycle or nesting too deep in the data section (decoder stack overflow)';
  }
  return `corrupt data record (${reasonOf(err)})`;
}
