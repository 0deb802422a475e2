import { parseArgs } from "node:util";
import { writeArchive } from "./write.js";

const usage = `Usage: node dist-bench/bench/generate/cli.js --events N --out FILE [--users N] [--seed S] [--gzip]

Writes a seeded, repeatable Segment archive (one JSON event per line).
  --events N   number of lines, duplicates included (required)
  --users N    size of the user population (default: events / 40, at least 1)
  --seed S     whole number; the same seed gives the same file (default: 1)
  --gzip       compress the output with gzip
  --out FILE   where to write the archive (required)`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: "string" },
      users: { type: "string" },
      seed: { type: "string", default: "1" },
      gzip: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (values.events === undefined || values.out === undefined) {
    throw new Error(`--events and --out are required\n\n${usage}`);
  }
  const events = wholeNumber("--events", values.events);
  const users = values.users === undefined ? Math.max(1, Math.round(events / 40)) : wholeNumber("--users", values.users);
  const seed = wholeNumber("--seed", values.seed);

  const started = performance.now();
  const written = await writeArchive({ events, users, seed, gzip: values.gzip, out: values.out });
  const seconds = (performance.now() - started) / 1000;
  const megabytes = written.uncompressedBytes / 1e6;
  console.error(`wrote ${written.events} events (${megabytes.toFixed(1)} MB of JSON) to ${written.path} in ${seconds.toFixed(1)} s`);
}

function wholeNumber(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${option} must be a whole number ≥ 0, got "${text}"`);
  }
  return value;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
