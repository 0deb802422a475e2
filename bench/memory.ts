import { type Contender, koalaReplay, koalaReplayAvailable, parseOnly } from "./contenders.js";
import { assertSucceeded, measureProcess } from "./measure/process.js";
import type { ResultRow } from "./result-row.js";

export interface MemorySettings {
  /** Archives to run, smallest first, each with its number of events. */
  archives: readonly { path: string; events: number }[];
  log: (message: string) => void;
}

const megabyte = 1024 * 1024;

/**
 * Measures the peak resident memory of a full dry run, each size in its own process, beside the
 * split-and-parse loop as the floor of any Node process that reads the same file. The last row
 * compares the largest archive with the smallest: a streaming tool stays near 1×.
 */
export async function measureMemory(settings: MemorySettings): Promise<ResultRow[]> {
  const available = koalaReplayAvailable();
  const rows: ResultRow[] = [];
  const ourPeaks: number[] = [];
  const floorPeaks: number[] = [];

  for (const archive of settings.archives) {
    const floor = await peakMegabytes(parseOnly, archive.path, settings);
    const ours = available ? await peakMegabytes(koalaReplay, archive.path, settings) : null;
    floorPeaks.push(floor);
    if (ours !== null) ourPeaks.push(ours);
    rows.push(withAvailability({
      id: `memory.peak-rss.${archive.events}-events`,
      label: `peak RSS of a dry run, ${archive.events} events`,
      unit: "MB",
      koalaReplay: ours,
      baseline: floor,
      baselineLabel: parseOnly.label,
      higherIsBetter: false,
    }));
  }

  const first = settings.archives[0];
  const last = settings.archives[settings.archives.length - 1];
  if (first !== undefined && last !== undefined && first !== last) {
    rows.push(withAvailability({
      id: "memory.peak-rss.growth",
      label: `peak RSS growth, ${last.events} vs ${first.events} events`,
      unit: "×",
      koalaReplay: growth(ourPeaks),
      baseline: growth(floorPeaks),
      baselineLabel: parseOnly.label,
      higherIsBetter: false,
    }));
  }
  return rows;
}

async function peakMegabytes(contender: Contender, archivePath: string, settings: MemorySettings): Promise<number> {
  const measurement = await measureProcess(contender.commandFor(archivePath));
  assertSucceeded(contender.label, measurement);
  if (measurement.peakRssBytes === null) throw new Error(`could not read the peak memory of ${contender.label}`);
  const megabytes = measurement.peakRssBytes / megabyte;
  settings.log(`  ${contender.label}: peak RSS ${megabytes.toFixed(1)} MB on ${archivePath}`);
  return megabytes;
}

function growth(peaks: readonly number[]): number | null {
  const first = peaks[0];
  const last = peaks[peaks.length - 1];
  return first === undefined || last === undefined || peaks.length < 2 ? null : last / first;
}

function withAvailability(row: ResultRow): ResultRow {
  if (row.koalaReplay === null) row.note = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";
  return row;
}
