import { MessageIdSet } from "../delivery/dedupe.js";
import type { KoalaEntry } from "../delivery/entry.js";
import type { IdentityGraph, IdentityGraphStats } from "../identity/index.js";
import { expandInputs } from "../inputs/expand-inputs.js";
import type { ReadInputOptions } from "../inputs/read-input.js";
import type { ReadOnceInput } from "../inputs/read-once.js";
import type { EmailExclusion, ExcludedEntry } from "./email-exclusion.js";
import { buildIdentityGraph } from "./identity-pass.js";
import type { RecordResult } from "./processor.js";
import type { ProcessorConfig } from "./processor-config.js";
import { WORKER_POOL_THRESHOLD_BYTES } from "./early-workers.js";
import { Stitcher } from "./stitching.js";
import { WorkerPool } from "./worker-pool.js";

/** The entries of one record, sorted by what a send would do with them once they are mapped. */
export interface EntryForecast {
  /** Entries a send would deliver: with an email or profile_id (stitched where needed) and not duplicates. */
  sent: KoalaEntry[];
  /** Entries whose mapping and messageId an earlier entry already had, which delivery skips. */
  duplicates: KoalaEntry[];
  /** Entries that have no email or profile_id, even after stitching. */
  unidentified: KoalaEntry[];
  /** Entries whose email, stitched or not, matches an email exclusion pattern. */
  excluded: readonly ExcludedEntry[];
}

/**
 * Sorts mapped entries the way `send` treats them before delivery, for `inspect` and `preview`,
 * which only count or show them. The stitcher gives an entry without an email the email of its
 * userId or anonymousId. Entries whose email matches an exclusion pattern are left out next. An
 * entry whose mapping name and messageId were already taken is then a duplicate, because the
 * delivery stage skips those. Records must be given in input order, as send reads them.
 */
export class SendForecast {
  private readonly taken = new MessageIdSet();

  constructor(
    readonly stitcher: Stitcher,
    private readonly exclusion?: EmailExclusion,
  ) {}

  sort(result: RecordResult): EntryForecast {
    const { deliverable, unidentified } = this.stitcher.stitch(result);
    const { sendable, excluded } = this.exclusion?.split(deliverable, this.stitcher.identifiedEmail(result)) ?? { sendable: deliverable, excluded: [] };
    const forecast: EntryForecast = { sent: [], duplicates: [], unidentified: unidentified > 0 ? result.unidentified : [], excluded };
    for (const entry of sendable) {
      const fresh = this.taken.add(entry.mappingName, entry.messageId);
      (fresh ? forecast.sent : forecast.duplicates).push(entry);
    }
    return forecast;
  }
}

/**
 * Reason a command that forecasts a send counts without identity stitching: `--no-stitch`, or
 * stdin or a pipe among the inputs, which cannot be read twice, without `--identities`.
 */
export type StitchingOffReason = "no-stitch" | "stdin-without-identities" | "pipe-without-identities";

/** Identity stitching of `inspect` and `preview`, resolved from `--no-stitch` and `--identities`. */
export type ForecastStitching =
  | {
      stitch: true;
      identitiesFile: string | undefined;
      /** Whether stdin is among the inputs. The first pass skips it, because it can be read only once. */
      readsStdin: boolean;
    }
  | {
      stitch: false;
      reason: StitchingOffReason;
      /** The inputs that can be read only once, for the reasons other than `no-stitch`. */
      readOnceInputs?: readonly ReadOnceInput[];
    };

export interface StitcherSetup {
  readOptions: ReadInputOptions;
  /** The run's mappings and filters, which the worker threads of the first pass are started with. */
  config: ProcessorConfig;
  warn: (message: string) => void;
}

/**
 * Builds the stitcher that `send` would use for the same inputs and options: with stitching on, it
 * reads the `--identities` file and every file input once, as send's first pass does. Call
 * `finish` once the last record is sorted: it copies the graph's conflicts into the stitcher's
 * coverage, frees the graph and returns its counts (undefined with stitching off).
 */
export async function buildForecastStitcher(
  inputs: readonly string[],
  stitching: ForecastStitching,
  setup: StitcherSetup,
): Promise<{ stitcher: Stitcher; finish: () => IdentityGraphStats | undefined }> {
  if (!stitching.stitch) {
    return { stitcher: new Stitcher(undefined), finish: () => undefined };
  }
  const { sources } = await expandInputs(inputs);
  let pool: WorkerPool | undefined;
  const workersFor = (chunkBytes: number): WorkerPool | undefined => {
    if (pool === undefined && chunkBytes >= WORKER_POOL_THRESHOLD_BYTES) {
      pool = new WorkerPool(setup.config);
    }
    return pool;
  };
  let graph: IdentityGraph;
  try {
    graph = await buildIdentityGraph(sources, { identitiesFile: stitching.identitiesFile, readOptions: setup.readOptions, warn: setup.warn, workersFor });
  } finally {
    await pool?.close();
  }
  const stitcher = new Stitcher(graph);
  return {
    stitcher,
    finish: () => {
      const stats = graph.stats();
      stitcher.coverage.conflicts = stats.conflicts;
      graph.close();
      return stats;
    },
  };
}
