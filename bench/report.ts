import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineInfo, SourceInfo } from "./machine.js";
import type { BenchOptions } from "./options.js";
import { benchSourceDirectory } from "./paths.js";
import { type ResultRow, ratioOf } from "./result-row.js";

export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  source: SourceInfo;
  machine: MachineInfo;
  /** 1-minute load average before and after the run. */
  loadAverage: { atStart: number; atEnd: number };
  options: BenchOptions;
  rows: (ResultRow & { ratio: number | null })[];
}

export const resultsDirectory = join(benchSourceDirectory, "results");

/** Writes the report as bench/results/<timestamp>.json and bench/results/latest.json, and returns the first path. */
export function writeReport(report: BenchReport): string {
  mkdirSync(resultsDirectory, { recursive: true });
  const text = JSON.stringify(report, null, 2) + "\n";
  const path = join(resultsDirectory, `${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, text);
  writeFileSync(join(resultsDirectory, "latest.json"), text);
  return path;
}

export function withRatios(rows: readonly ResultRow[]): BenchReport["rows"] {
  return rows.map((row) => ({ ...row, ratio: ratioOf(row) }));
}

/** Formats the rows as an aligned text table. A ratio above 1 means koala-replay is better. */
export function formatTable(rows: BenchReport["rows"]): string {
  const header = ["figure", "unit", "koala-replay", "baseline", "ratio", "baseline is"];
  const lines = rows.map((row) => [
    row.label,
    row.unit,
    formatNumber(row.koalaReplay),
    formatNumber(row.baseline),
    row.ratio === null ? "n/a" : `${row.ratio.toFixed(2)}×`,
    row.baselineLabel,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column >= 2 && column <= 4 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join("  ");

  const output = [render(header), widths.map((width) => "-".repeat(width)).join("  ")];
  let previousNote: string | undefined;
  for (const [index, line] of lines.entries()) {
    output.push(render(line));
    // A note shared by consecutive rows is printed once, under the first of them.
    const note = rows[index]?.note;
    if (note !== undefined && note !== previousNote) output.push(`    note: ${note}`);
    previousNote = note;
  }
  return output.join("\n");
}

function formatNumber(value: number | null): string {
  if (value === null) return "n/a";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
