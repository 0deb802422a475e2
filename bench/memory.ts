import { type Contender, koalaReplay, koalaReplayAvailable, koalaReplayStitching, parseOnly } from "./contenders.js";
import { assertSucceeded, measureProcess } from "./measure/process.js";
import type { ResultRow } from "./result-row.js";

export interface MemorySettings {
  /** Archives to run, smallest first, each with its number of events. */
  archives: readonly { path: string; events: number }[];
  log: (message: string) => void;
}

interface ArchivePeaks {
  events: number;
  floor: number;
  /** Peak of each koala-replay variant, by contender id; empty when the CLI is not built. */
  ours: Map<string, number>;
}

const megabyte = 1024 * 1024;
const notAvailable = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";

/**
 * Measures the peak resident memory of a full dry run, each size in its own process, with and
 * without identity stitching, beside the split-and-parse loop as the floor of any Node process that
 * reads the same file. The growth rows compare the largest archive with the smallest: a streaming
 * tool stays near 1×.
 */
export async function measureMemory(settings: MemorySettings): Promise<ResultRow[]> {
  const variants = koalaReplayAvailable() ? [koalaReplay, koalaReplayStitching] : [];
  const peaks: ArchivePeaks[] = [];
  for (const archive of settings.archives) {
    const floor = await peakMegabytes(parseOnly, archive.path, settings);
    const ours = new Map<string, number>();
    for (const variant of variants) ours.set(variant.id, await peakMegabytes(variant, archive.path, settings));
    peaks.push({ events: archive.events, floor, ours });
  }

  const rows: ResultRow[] = [];
  for (const variant of [koalaReplay, koalaReplayStitching]) {
    for (const archive of peaks) rows.push(peakRow(variant, archive));
    const growth = growthRow(variant, peaks);
    if (growth !== null) rows.push(growth);
  }
  return rows;
}

function peakRow(variant: Contender, archive: ArchivePeaks): ResultRow {
  const row: ResultRow = {
    id: `memory.peak-rss.${variant.id}.${archive.events}-events`,
    label: `peak RSS, ${archive.events} events, ${variant.label}`,
    unit: "MB",
    koalaReplay: archive.ours.get(variant.id) ?? null,
    baseline: archive.floor,
    baselineLabel: parseOnly.label,
    higherIsBetter: false,
  };
  if (row.koalaReplay === null) row.note = notAvailable;
  return row;
}

function growthRow(variant: Contender, peaks: readonly ArchivePeaks[]): ResultRow | null {
  const first = peaks[0];
  const last = peaks[peaks.length - 1];
  if (first === undefined || last === undefined || first === last) return null;
  const ours = (archive: ArchivePeaks): number | null => archive.ours.get(variant.id) ?? null;
  const firstPeak = ours(first);
  const lastPeak = ours(last);
  const row: ResultRow = {
    id: `memory.peak-rss.${variant.id}.growth`,
    label: `peak RSS growth, ${last.events} vs ${first.events} events, ${variant.label}`,
    unit: "×",
    koalaReplay: firstPeak === null || lastPeak === null ? null : lastPeak / firstPeak,
    baseline: last.floor / first.floor,
    baselineLabel: parseOnly.label,
    higherIsBetter: false,
  };
  if (row.koalaReplay === null) row.note = notAvailable;
  return row;
}

async function peakMegabytes(contender: Contender, archivePath: string, settings: MemorySettings): Promise<number> {
  const measurement = await measureProcess(contender.commandFor(archivePath));
  assertSucceeded(contender.label, measurement);
  if (measurement.peakRssBytes === null) throw new Error(`could not read the peak memory of ${contender.label}`);
  const megabytes = measurement.peakRssBytes / megabyte;
  settings.log(`  ${contender.label}: peak RSS ${megabytes.toFixed(1)} MB on ${archivePath}`);
  return megabytes;
}
