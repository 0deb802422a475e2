import { parseArgs } from "node:util";

export type Section = "throughput" | "memory" | "startup" | "modules";
/** Start-up runs first, while the machine is quiet. The modules run last because they hold a sample in memory. */
const allSections: readonly Section[] = ["startup", "throughput", "memory", "modules"];

export interface BenchOptions {
  /** Events in the throughput archive. */
  events: number;
  /** Sizes of the archives whose peak memory is compared, smallest first. */
  memoryEvents: number[];
  repetitions: number;
  startupRuns: number;
  /** Events handed, parsed, to the modules in bench/figures/. */
  sampleEvents: number;
  seed: number;
  sections: Section[];
}

export const usage = `Usage: npm run bench -- [options]

  --quick                 a small smoke run (defaults in brackets below)
  --events N              events in the throughput archive (default: 200000) [20000]
  --memory-events A,B     archive sizes whose peak memory is compared (default: 100000,1000000) [10000,100000]
  --repetitions N         runs of each throughput command; the median counts (default: 3) [1]
  --startup-runs N        runs of each start-up command; the median counts (default: 20) [5]
  --sample N              parsed events given to the modules in bench/figures/ (default: 50000) [5000]
  --seed S                generator seed (default: 1)
  --only LIST             sections to run, from startup,throughput,memory,modules (default: all)

Each option can also be set in the environment as BENCH_<NAME>, for example BENCH_EVENTS=1000000
or BENCH_QUICK=1. A flag wins over the environment.`;

const fullDefaults = { events: 200_000, memoryEvents: [100_000, 1_000_000], repetitions: 3, startupRuns: 20, sampleEvents: 50_000 };
const quickDefaults = { events: 20_000, memoryEvents: [10_000, 100_000], repetitions: 1, startupRuns: 5, sampleEvents: 5_000 };

/** Resolves flags and BENCH_* environment variables into options, rejecting invalid values with their name. */
export function parseBenchOptions(argv: readonly string[], environment: NodeJS.ProcessEnv): BenchOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: "boolean" },
      events: { type: "string" },
      "memory-events": { type: "string" },
      repetitions: { type: "string" },
      "startup-runs": { type: "string" },
      sample: { type: "string" },
      seed: { type: "string" },
      only: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help === true) return "help";

  const setting = (flag: keyof typeof values): string | undefined => {
    const value = values[flag];
    if (typeof value === "string") return value;
    return environment[`BENCH_${flag.toUpperCase().replace(/-/g, "_")}`];
  };
  const quick = values.quick === true || environment["BENCH_QUICK"] === "1";
  const defaults = quick ? quickDefaults : fullDefaults;

  return {
    events: positiveInteger("--events", setting("events")) ?? defaults.events,
    memoryEvents: integerList("--memory-events", setting("memory-events")) ?? defaults.memoryEvents,
    repetitions: positiveInteger("--repetitions", setting("repetitions")) ?? defaults.repetitions,
    startupRuns: positiveInteger("--startup-runs", setting("startup-runs")) ?? defaults.startupRuns,
    sampleEvents: positiveInteger("--sample", setting("sample")) ?? defaults.sampleEvents,
    seed: positiveInteger("--seed", setting("seed")) ?? 1,
    sections: sectionList(setting("only")),
  };
}

function positiveInteger(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${option} must be a whole number ≥ 1, got "${text}"`);
  }
  return value;
}

function integerList(option: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((part) => positiveInteger(option, part.trim()) as number);
  return values.sort((a, b) => a - b);
}

function sectionList(text: string | undefined): Section[] {
  if (text === undefined) return [...allSections];
  return text.split(",").map((part) => {
    const name = part.trim();
    const section = allSections.find((candidate) => candidate === name);
    if (section === undefined) throw new Error(`--only takes ${allSections.join(", ")}, got "${name}"`);
    return section;
  });
}
