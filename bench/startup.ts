import { join } from "node:path";
import { koalaReplayAvailable } from "./contenders.js";
import { assertSucceeded, type CommandSpec, measureProcess, median } from "./measure/process.js";
import { repositoryRoot } from "./paths.js";
import type { ResultRow } from "./result-row.js";

export interface StartupSettings {
  runs: number;
  log: (message: string) => void;
}

/**
 * Measures the median wall time of `koala-replay --version` beside `node -e 0`, the cost of starting
 * Node itself. The runs alternate, so that a slow spell of the machine hits both alike.
 */
export async function measureStartup(settings: StartupSettings): Promise<ResultRow[]> {
  const available = koalaReplayAvailable();
  const nodeAlone: CommandSpec = { command: process.execPath, args: ["-e", "0"] };
  const version: CommandSpec = { command: process.execPath, args: [join(repositoryRoot, "bin", "koala-replay.js"), "--version"] };
  const nodeTimes: number[] = [];
  const versionTimes: number[] = [];

  for (let run = 0; run < settings.runs; run++) {
    nodeTimes.push(await wallTime("node -e 0", nodeAlone));
    if (available) versionTimes.push(await wallTime("koala-replay --version", version));
  }
  const row: ResultRow = {
    id: "startup.version.ms",
    label: `start-up, median of ${settings.runs} runs of koala-replay --version`,
    unit: "ms",
    koalaReplay: available ? median(versionTimes) : null,
    baseline: median(nodeTimes),
    baselineLabel: "node -e 0",
    higherIsBetter: false,
  };
  if (!available) row.note = "koala-replay not available: dist/cli/main.js is missing (run npm run build)";
  settings.log(`  node -e 0: median ${row.baseline?.toFixed(1)} ms; koala-replay --version: ${row.koalaReplay?.toFixed(1) ?? "n/a"} ms`);
  return [row];
}

async function wallTime(name: string, spec: CommandSpec): Promise<number> {
  const measurement = await measureProcess(spec);
  assertSucceeded(name, measurement);
  return measurement.wallMs;
}
