import { createDelivery, type Delivery } from "../delivery/index.js";
import type { KoalaEntry } from "../delivery/entry.js";

/** Counts the requests a send would make for the entries it is given, in input order. */
export interface RequestEstimator {
  add(entry: KoalaEntry): void | Promise<void>;
  /** Sends what is still buffered; call it once, after the last `add` and before `count`. */
  finish(): Promise<void>;
  /** Requests needed for the entries added so far. */
  count(): number;
  /** Counting method, shown in the report. */
  readonly method: string;
}

/**
 * Creates an estimator that runs the delivery stage's own batching in a dry run and counts the
 * request lines it would print, so the count is the one a send with default options would make,
 * before retries and 400 splits.
 */
export function batchedRequests(): RequestEstimator {
  let requests = 0;
  const output = { write: (): boolean => true, once: (): void => {} };
  const delivery: Delivery = createDelivery({
    endpoint: "http://127.0.0.1",
    dryRun: true,
    output,
    userAgent: "koala-replay",
    resume: false,
    inputs: [],
    events: {
      onRequestSent: () => {
        requests += 1;
      },
    },
  });
  return {
    add: (entry) => delivery.submit(entry.origin, [entry]),
    finish: async () => {
      await delivery.finish();
    },
    count: () => requests,
    method: "per-person batches of up to 30 entries of each kind, as send batches them",
  };
}
