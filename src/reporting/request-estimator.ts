import type { KoalaEntry } from "../delivery/entry.js";

/** Counts the requests a send would make for the entries it is given, in input order. */
export interface RequestEstimator {
  add(entry: KoalaEntry): void;
  /** Requests needed for the entries added so far. */
  count(): number;
  /** Counting method, shown in the report: "one request per entry". */
  readonly method: string;
}

/** Creates the estimator for today's delivery, which sends each entry in a request of its own. */
export function oneRequestPerEntry(): RequestEstimator {
  let entries = 0;
  return {
    add: () => {
      entries += 1;
    },
    count: () => entries,
    method: "one request per entry",
  };
}
