import { availableParallelism } from "node:os";
import { archiveLines } from "./generate/archive.js";
import { cachedArchive, defaultUsersFor } from "./archive-cache.js";
import type { SegmentEvent } from "../src/inputs/record.js";
import { koalaReplayAvailable } from "./contenders.js";
import { measureFigureModules } from "./figure-modules.js";
import { describeMachine, describeSource, loadAverage } from "./machine.js";
import { measureMemory } from "./memory.js";
import { type BenchOptions, parseBenchOptions, usage } from "./options.js";
import { formatTable, withRatios, writeReport } from "./report.js";
import type { ResultRow } from "./result-row.js";
import { measureStartup } from "./startup.js";
import { measureThroughput } from "./throughput.js";

const log = (message: string): void => {
  console.error(message);
};

async function main(argv: string[]): Promise<void> {
  const options = parseBenchOptions(argv, process.env);
  if (options === "help") {
    console.log(usage);
    return;
  }
  const startedAt = new Date();
  const started = performance.now();
  const loadAtStart = loadAverage();
  warnIfBusy(loadAtStart);
  noteExtraCaCertificates();
  if (!koalaReplayAvailable()) log("koala-replay is not built (dist/cli/main.js is missing): its figures will read n/a");

  // Every archive is written before the first measurement, so no timing shares the disk with the generator.
  await prepareArchives(options);
  const rows: ResultRow[] = [];
  for (const section of options.sections) {
    log(`\n${section}`);
    rows.push(...(await runSection(section, options)));
  }

  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    source: describeSource(),
    machine: describeMachine(),
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
    options,
    rows: withRatios(rows),
  };
  const path = writeReport(report);
  console.log(`\n${formatTable(report.rows)}\n`);
  console.log(`Ratios above 1 mean koala-replay is better. Written to ${path} and bench/results/latest.json in ${report.durationSeconds} s.`);
}

function warnIfBusy(load: number): void {
  const cpus = availableParallelism();
  if (load > cpus / 2) {
    log(`warning: load average ${load} on ${cpus} CPUs: other processes compete for the CPU, so wall times will be inflated (CPU times in the JSON report are less affected)`);
  }
}

/**
 * Notes that every Node.js process of this run loads extra CA certificates at start. Node does so
 * when NODE_EXTRA_CA_CERTS is set, even for `node -e 0`, so start-up times include it.
 */
function noteExtraCaCertificates(): void {
  if (describeMachine().nodeExtraCaCerts) {
    log("note: NODE_EXTRA_CA_CERTS is set, so every Node.js process of this run, node -e 0 included, loads those certificates at start, which lengthens start-up times");
  }
}

async function runSection(section: BenchOptions["sections"][number], options: BenchOptions): Promise<ResultRow[]> {
  switch (section) {
    case "throughput": {
      const archivePath = await archiveOf(options.events, options.seed);
      return measureThroughput({ archivePath, events: options.events, repetitions: options.repetitions, log });
    }
    case "memory": {
      const archives = [];
      for (const events of options.memoryEvents) archives.push({ events, path: await archiveOf(events, options.seed) });
      return measureMemory({ archives, log });
    }
    case "startup":
      return measureStartup({ runs: options.startupRuns, log });
    case "modules":
      return measureFigureModules({ events: sampleEvents(options.sampleEvents, options.seed) }, log);
    default:
      return assertNever(section);
  }
}

async function prepareArchives(options: BenchOptions): Promise<void> {
  const sizes = new Set<number>();
  if (options.sections.includes("throughput")) sizes.add(options.events);
  if (options.sections.includes("memory")) for (const events of options.memoryEvents) sizes.add(events);
  for (const events of sizes) await archiveOf(events, options.seed);
}

function archiveOf(events: number, seed: number): Promise<string> {
  return cachedArchive({ events, users: defaultUsersFor(events), seed }, (path) => log(`  generating ${events} events into ${path}`));
}

/** Parses the sample from JSON text, so modules see objects exactly as an archive reader builds them. */
function sampleEvents(count: number, seed: number): SegmentEvent[] {
  const events: SegmentEvent[] = [];
  for (const line of archiveLines({ events: count, users: defaultUsersFor(count), seed })) {
    events.push(JSON.parse(line) as SegmentEvent);
  }
  return events;
}

function assertNever(value: never): never {
  throw new Error(`unknown section ${String(value)}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)} (npm run bench -- --help lists the options)`);
  process.exitCode = 1;
});
