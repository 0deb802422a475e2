import type { Figure } from "./figure.js";

/**
 * One row of the final table. Unlike a Figure, either value may be missing, with the reason in
 * `note`, so a run still reports its baselines when koala-replay is not built or a module fails.
 */
export interface ResultRow {
  id: string;
  label: string;
  unit: string;
  koalaReplay: number | null;
  baseline: number | null;
  baselineLabel: string;
  higherIsBetter: boolean;
  note?: string;
  /** Raw measurements behind the two values (wall and CPU times of each run), kept in the JSON report. */
  details?: Record<string, unknown>;
}

export function rowFromFigure(figure: Figure): ResultRow {
  return { ...figure };
}

/**
 * Computes the ratio oriented so that a value above 1 means koala-replay is better: koala-replay /
 * baseline when higher is better, baseline / koala-replay when lower is better. Returns null when a
 * value is missing.
 */
export function ratioOf(row: ResultRow): number | null {
  if (row.koalaReplay === null || row.baseline === null) return null;
  if (row.koalaReplay === 0 || row.baseline === 0) return null;
  return row.higherIsBetter ? row.koalaReplay / row.baseline : row.baseline / row.koalaReplay;
}
