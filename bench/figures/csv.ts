import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Figure, MeasureFigures } from "../figure.js";
import { writeTracksCsv } from "../csv/generate.js";
import type { WorkerResult } from "../csv/read-worker.js";

const DEFAULT_SIZE_MB = 200;
const MEGABYTE = 1024 * 1024;
const runFile = promisify(execFile);

/**
 * Streams a generated warehouse export of `BENCH_CSV_MB` megabytes (default 200) through
 * `readCsvRecords`, beside a file a tenth of that size, and beside csv-parse alone on the big file.
 * Each read runs in its own `node` process (see read-worker.ts): peak RSS growth is that process's
 * kernel-reported peak minus its RSS before reading, so the two sizes cannot inflate each other.
 * Memory that does not grow with the file shows as equal growth for both sizes.
 */
export const measure: MeasureFigures = async () => {
  const sizeMb = readSizeMb();
  const directory = await mkdtemp(join(tmpdir(), "koala-bench-csv-"));
  try {
    const largeFile = join(directory, "order_completed.csv");
    const smallFile = join(directory, "order_completed_small.csv");
    await writeTracksCsv(largeFile, sizeMb * MEGABYTE);
    await writeTracksCsv(smallFile, (sizeMb / 10) * MEGABYTE);

    const small = await runWorker(smallFile, "koala-replay");
    const large = await runWorker(largeFile, "koala-replay");
    const parseOnly = await runWorker(largeFile, "csv-parse");
    return buildFigures(sizeMb, small, large, parseOnly);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
};

function readSizeMb(): number {
  const text = process.env.BENCH_CSV_MB;
  if (text === undefined || text === "") return DEFAULT_SIZE_MB;
  const size = Number(text);
  if (!Number.isFinite(size) || size < 1) {
    throw new Error(`BENCH_CSV_MB must be a number of megabytes of at least 1, got ${JSON.stringify(text)}`);
  }
  return size;
}

async function runWorker(file: string, reader: "koala-replay" | "csv-parse"): Promise<WorkerResult> {
  const worker = fileURLToPath(new URL("../csv/read-worker.js", import.meta.url));
  const { stdout } = await runFile(process.execPath, [worker, file, reader], { maxBuffer: MEGABYTE });
  return JSON.parse(stdout) as WorkerResult;
}

function rowsPerSecond(result: WorkerResult): number {
  return Math.round(result.rows / result.seconds);
}

function rssGrowthMb(result: WorkerResult): number {
  return Math.round(((result.peakRssBytes - result.rssBeforeBytes) / MEGABYTE) * 10) / 10;
}

function buildFigures(sizeMb: number, small: WorkerResult, large: WorkerResult, parseOnly: WorkerResult): Figure[] {
  const smallLabel = `same reader, ${sizeMb / 10} MB file (${small.rows} rows)`;
  const largeLabel = `${sizeMb} MB warehouse export (${large.rows} rows)`;
  return [
    {
      id: "csv.read.rows-per-second",
      label: `CSV to events, ${largeLabel}`,
      unit: "rows/s",
      koalaReplay: rowsPerSecond(large),
      baseline: rowsPerSecond(small),
      baselineLabel: smallLabel,
      higherIsBetter: true,
    },
    {
      id: "csv.read.peak-rss-growth-mb",
      label: `CSV to events, peak RSS growth, ${largeLabel}`,
      unit: "MB",
      koalaReplay: rssGrowthMb(large),
      baseline: rssGrowthMb(small),
      baselineLabel: smallLabel,
      higherIsBetter: false,
    },
    {
      id: "csv.read.rows-per-second-vs-csv-parse",
      label: `CSV to events beside parsing alone, ${largeLabel}`,
      unit: "rows/s",
      koalaReplay: rowsPerSecond(large),
      baseline: rowsPerSecond(parseOnly),
      baselineLabel: "csv-parse alone, records not converted",
      higherIsBetter: true,
    },
  ];
}
