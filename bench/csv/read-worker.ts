/**
 * Reads one CSV file in its own process and prints what it measured as one JSON line. A process's
 * peak RSS never goes down, so two sizes measured in one process would both report the larger peak.
 *
 * Usage: node read-worker.js <file> <koala-replay|csv-parse>
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { readCsvRecords } from "../../src/inputs/csv/index.js";

export interface WorkerResult {
  rows: number;
  problems: number;
  seconds: number;
  /** RSS after modules are loaded and before the file is opened, in bytes. */
  rssBeforeBytes: number;
  /** Kernel-reported peak RSS of the process (`getrusage` maxRSS), in bytes. */
  peakRssBytes: number;
}

type Reader = "koala-replay" | "csv-parse";

async function readWithKoalaReplay(path: string): Promise<{ rows: number; problems: number }> {
  let rows = 0;
  let problems = 0;
  const items = readCsvRecords(createReadStream(path), { input: path, table: "order_completed", convertNumbers: true });
  for await (const item of items) {
    if (item.kind === "record") rows += 1;
    else problems += 1;
  }
  return { rows, problems };
}

/** csv-parse alone, with the same line-ending and BOM options: the floor under koala-replay's cost. */
async function readWithCsvParse(path: string): Promise<{ rows: number; problems: number }> {
  let rows = -1;
  const parser = createReadStream(path).pipe(parse({ bom: true, record_delimiter: ["\r\n", "\n", "\r"] }));
  for await (const record of parser) {
    void record;
    rows += 1;
  }
  return { rows, problems: 0 };
}

async function main(): Promise<void> {
  const [path, reader] = process.argv.slice(2) as [string | undefined, Reader | undefined];
  if (path === undefined || (reader !== "koala-replay" && reader !== "csv-parse")) {
    throw new Error(`usage: read-worker.js <file> <koala-replay|csv-parse>, got ${JSON.stringify(process.argv.slice(2))}`);
  }
  const rssBeforeBytes = process.memoryUsage().rss;
  const started = performance.now();
  const counts = reader === "koala-replay" ? await readWithKoalaReplay(path) : await readWithCsvParse(path);
  const seconds = (performance.now() - started) / 1000;
  const result: WorkerResult = {
    ...counts,
    seconds,
    rssBeforeBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

await main();
