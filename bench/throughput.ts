import { type Contender, jq, koalaReplay, koalaReplayAvailable, parseOnly, segmentPackages } from "./contenders.js";
import { assertSucceeded, measureProcess, median } from "./measure/process.js";
import type { ResultRow } from "./result-row.js";

export interface ThroughputSettings {
  archivePath: string;
  events: number;
  repetitions: number;
  log: (message: string) => void;
}

interface ContenderTiming {
  contender: Contender;
  eventsPerSecond: number;
  wallMs: readonly number[];
}

/**
 * Measures the dry run's throughput (read, filter, map, serialise) against each baseline: the
 * median wall time of each command over the same uncompressed archive, start-up included.
 */
export async function measureThroughput(settings: ThroughputSettings): Promise<ResultRow[]> {
  const baselines = [jq, segmentPackages, parseOnly];
  const timings = new Map<string, ContenderTiming>();
  for (const contender of baselines) {
    timings.set(contender.id, await timeContender(contender, settings));
  }
  const ours = koalaReplayAvailable() ? await timeContender(koalaReplay, settings) : null;

  return baselines.map((contender) => {
    const baseline = timings.get(contender.id);
    const row: ResultRow = {
      id: `throughput.dry-run.vs-${contender.id}`,
      label: `dry-run throughput, ${settings.events} events`,
      unit: "events/s",
      koalaReplay: ours === null ? null : ours.eventsPerSecond,
      baseline: baseline === undefined ? null : baseline.eventsPerSecond,
      baselineLabel: contender.label,
      higherIsBetter: true,
    };
    if (ours === null) row.note = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";
    return row;
  });
}

async function timeContender(contender: Contender, settings: ThroughputSettings): Promise<ContenderTiming> {
  const wallMs: number[] = [];
  for (let run = 1; run <= settings.repetitions; run++) {
    const measurement = await measureProcess(contender.commandFor(settings.archivePath));
    assertSucceeded(contender.label, measurement);
    wallMs.push(measurement.wallMs);
    settings.log(`  ${contender.label}: run ${run}/${settings.repetitions} took ${(measurement.wallMs / 1000).toFixed(2)} s`);
  }
  return { contender, wallMs, eventsPerSecond: settings.events / (median(wallMs) / 1000) };
}
