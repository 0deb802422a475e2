import type { SegmentEvent } from "../src/inputs/record.js";

/** One row of the benchmark table: a figure for koala-replay beside its baseline, from the same run. */
export interface Figure {
  /** Stable identifier, used to compare runs across commits (for example `trigger.preset-track.ns-per-event`). */
  id: string;
  label: string;
  /** Unit of both values, for example `ns/event`, `events/s`, `MB`, `ms`. */
  unit: string;
  koalaReplay: number;
  /** The comparison value measured in the same run, or null when the figure has no baseline. */
  baseline: number | null;
  baselineLabel: string;
  /** Whether a larger value is better (throughput) or worse (cost, memory, time). */
  higherIsBetter: boolean;
}

/** What a figure module receives: a sample of realistic events, already parsed. */
export interface BenchContext {
  events: readonly SegmentEvent[];
}

/** Every module in bench/figures/ exports `measure` with this signature. */
export type MeasureFigures = (context: BenchContext) => Promise<Figure[]>;
