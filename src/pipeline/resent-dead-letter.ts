import type { RecordResult } from "./processor.js";

/**
 * Checks whether a result is of a dead-letter line given as input rather than of an event.
 * `processEvent` gives every event a matched mapping or a skip reason, and a dead-letter line
 * neither, because it is sent again as written without a trigger. Both fields cross the worker
 * codec, so the check also holds for results decoded from a worker thread.
 */
export function isResentDeadLetter(result: RecordResult): boolean {
  return result.skipped === undefined && result.matched.length === 0;
}
