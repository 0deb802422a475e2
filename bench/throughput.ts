import { type Contender, jq, koalaReplay, koalaReplayAvailable, koalaReplayStitching, parseOnly, segmentPackages } from "./contenders.js";
import { assertSucceeded, measureProcess, median } from "./measure/process.js";
import type { ResultRow } from "./result-row.js";

export interface ThroughputSettings {
  archivePath: string;
  events: number;
  repetitions: number;
  log: (message: string) => void;
}

interface ContenderRuns {
  contender: Contender;
  wallMs: number[];
  cpuMs: (number | null)[];
}

const notAvailable = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";

/**
 * Measures the dry run's throughput (read, filter, map, serialise) against each baseline: the
 * median wall time of each command over the same uncompressed archive, start-up included. A
 * second set of rows compares CPU time per event, which other processes on the machine barely
 * change. The commands take turns, so that a busy spell of the machine hits all of them alike.
 */
export async function measureThroughput(settings: ThroughputSettings): Promise<ResultRow[]> {
  const baselines = [jq, segmentPackages, parseOnly];
  const contenders = koalaReplayAvailable() ? [...baselines, koalaReplay, koalaReplayStitching] : baselines;
  const runs = new Map<string, ContenderRuns>(contenders.map((contender) => [contender.id, { contender, wallMs: [], cpuMs: [] }]));

  for (let run = 1; run <= settings.repetitions; run++) {
    for (const contender of contenders) {
      const measurement = await measureProcess(contender.commandFor(settings.archivePath));
      assertSucceeded(contender.label, measurement);
      const record = runs.get(contender.id);
      record?.wallMs.push(measurement.wallMs);
      record?.cpuMs.push(measurement.cpuMs);
      const cpu = measurement.cpuMs === null ? "" : `, ${(measurement.cpuMs / 1000).toFixed(2)} s of CPU`;
      settings.log(`  ${contender.label}: run ${run}/${settings.repetitions} took ${(measurement.wallMs / 1000).toFixed(2)} s${cpu}`);
    }
  }

  const ours = runs.get(koalaReplay.id) ?? null;
  const wallRows = baselines.map((contender) => wallTimeRow(settings.events, ours, runs.get(contender.id) ?? null, contender));
  const cpuRows = baselines.map((contender) => cpuTimeRow(settings.events, ours, runs.get(contender.id) ?? null, contender));
  return [...wallRows, stitchingRow(settings.events, runs.get(koalaReplayStitching.id) ?? null, ours), ...cpuRows];
}

/** Compares the default run, which reads the input twice to stitch identities, with the run without it. */
function stitchingRow(events: number, stitching: ContenderRuns | null, withoutStitching: ContenderRuns | null): ResultRow {
  const row = wallTimeRow(events, stitching, withoutStitching, koalaReplay);
  row.id = "throughput.dry-run.stitching-cost";
  row.label = `dry-run throughput with identity stitching (the default), ${events} events`;
  return row;
}

function wallTimeRow(events: number, ours: ContenderRuns | null, baseline: ContenderRuns | null, contender: Contender): ResultRow {
  const eventsPerSecond = (runs: ContenderRuns | null): number | null => (runs === null ? null : events / (median(runs.wallMs) / 1000));
  const row: ResultRow = {
    id: `throughput.dry-run.vs-${contender.id}`,
    label: `dry-run throughput, ${events} events`,
    unit: "events/s",
    koalaReplay: eventsPerSecond(ours),
    baseline: eventsPerSecond(baseline),
    baselineLabel: contender.label,
    higherIsBetter: true,
    details: { koalaReplay: runDetails(ours), baseline: runDetails(baseline) },
  };
  if (ours === null) row.note = notAvailable;
  return row;
}

function cpuTimeRow(events: number, ours: ContenderRuns | null, baseline: ContenderRuns | null, contender: Contender): ResultRow {
  const microsecondsPerEvent = (runs: ContenderRuns | null): number | null => {
    const known = runs?.cpuMs.filter((ms): ms is number => ms !== null) ?? [];
    return known.length === 0 ? null : (median(known) * 1000) / events;
  };
  const row: ResultRow = {
    id: `throughput.cpu.vs-${contender.id}`,
    label: `CPU time of the dry run, all threads`,
    unit: "µs/event",
    koalaReplay: microsecondsPerEvent(ours),
    baseline: microsecondsPerEvent(baseline),
    baselineLabel: contender.label,
    higherIsBetter: false,
  };
  if (ours === null) row.note = notAvailable;
  return row;
}

function runDetails(runs: ContenderRuns | null): Record<string, unknown> | null {
  if (runs === null) return null;
  const cpuMs = runs.cpuMs.map((ms) => (ms === null ? null : Math.round(ms)));
  return { command: runs.contender.label, wallMs: runs.wallMs.map(Math.round), cpuMs };
}
