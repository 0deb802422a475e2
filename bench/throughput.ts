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
  cpuMs: readonly (number | null)[];
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
      details: { koalaReplay: timingDetails(ours), baseline: timingDetails(baseline) },
    };
    if (ours === null) row.note = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";
    return row;
  });
}

async function timeContender(contender: Contender, settings: ThroughputSettings): Promise<ContenderTiming> {
  const wallMs: number[] = [];
  const cpuMs: (number | null)[] = [];
  for (let run = 1; run <= settings.repetitions; run++) {
    const measurement = await measureProcess(contender.commandFor(settings.archivePath));
    assertSucceeded(contender.label, measurement);
    wallMs.push(measurement.wallMs);
    cpuMs.push(measurement.cpuMs);
    const cpu = measurement.cpuMs === null ? "" : `, ${(measurement.cpuMs / 1000).toFixed(2)} s of CPU`;
    settings.log(`  ${contender.label}: run ${run}/${settings.repetitions} took ${(measurement.wallMs / 1000).toFixed(2)} s${cpu}`);
  }
  return { contender, wallMs, cpuMs, eventsPerSecond: settings.events / (median(wallMs) / 1000) };
}

function timingDetails(timing: ContenderTiming | null | undefined): Record<string, unknown> | null {
  if (timing === null || timing === undefined) return null;
  return { command: timing.contender.label, wallMs: timing.wallMs.map(Math.round), cpuMs: timing.cpuMs.map((ms) => (ms === null ? null : Math.round(ms))) };
}
