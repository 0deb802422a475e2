import type { RecordResult } from "./processor.js";

/** Checks whether a result is of a dead-letter line given as input rather than of an event. */
export function isResentDeadLetter(result: RecordResult): boolean {
  return result.resentDeadLetter === true;
}
