import { createDelivery, type Delivery } from "../delivery/index.js";
import type { KoalaEntry } from "../delivery/entry.js";
import type { RecordOrigin } from "../inputs/record.js";

/** Counts the requests a send would make for the records it is given, in input order. */
export interface RequestEstimator {
  /**
   * Adds the entries that a send would deliver for one record (an event or a dead-letter line),
   * possibly none. Call it for every record read, because send closes a batch that has waited
   * 2,000 records, whether or not they made entries.
   */
  addRecord(origin: RecordOrigin, entries: readonly KoalaEntry[]): void | Promise<void>;
  /** Sends what is still buffered; call it once, after the last `addRecord` and before `count`. */
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
    addRecord: (origin, entries) => delivery.submit(origin, entries),
    finish: async () => {
      await delivery.finish();
    },
    count: () => requests,
    method: "per-person batches of up to 30 entries of each kind, as send batches them",
  };
}
