import { Command, CommanderError, Option } from "commander";
import { ExitCode, UsageError } from "./errors.js";
import { DEFAULT_CONCURRENCY, DEFAULT_ENDPOINT } from "./send-options.js";
import { packageVersion } from "./version.js";

const EXIT_STATUS_HELP = `
Exit status:
  0    everything that matched was delivered (or printed, with --dry-run)
  1    done, but some entries were not delivered (invalid events, unreadable lines, failed requests)
  2    usage or config error; nothing was sent
  3    stopped by a fatal answer from Koala (wrong public key or endpoint)
  130  interrupted (Ctrl-C or SIGTERM)`;

const CSV_HELP = `
CSV cells stay text, except: empty cells (the value was absent) are left out; JSON-looking cells
holding an object or array become that value; timestamps without a zone are UTC, and epoch seconds
or milliseconds become ISO-8601; with --csv-numbers, number-like cells become numbers. Rows
without an id get a messageId derived from their content, so a second run is deduplicated by
Koala. Full rules: docs/csv.md.`;

const SEND_EXAMPLES = `
Examples:
  # preview the requests for an S3 archive folder, one JSON line per request
  koala-replay send --dry-run ./segment-logs

  # replay a gzip archive into Koala
  KOALA_PUBLIC_KEY=<key> koala-replay send events.jsonl.gz

  # include analytics.js track events recorded before Koala's pixel went live
  koala-replay send --dry-run --browser-events before:2024-03-01 ./segment-logs

  # only order events of the first quarter of 2024
  koala-replay send --dry-run --filter 'event = "Order Completed"' --since 2024-01-01 --until 2024-04-01 ./archive

  # a warehouse export: the table is taken from the file name (tracks.csv), or given
  koala-replay send --dry-run --csv-table identifies export.csv

  # read from a pipe
  gunzip -c export.gz | koala-replay send --dry-run - | jq .body.email`;

const CHECK_EXAMPLES = `
Examples:
  koala-replay check --trigger 'type = "track" and properties.plan = "pro"'
  koala-replay check --trigger 'event = "Signed Up"' --event '{"type":"track","event":"Signed Up"}'
  koala-replay check --dialect fql --trigger 'lowercase(event) = "signed up"' --event event.json

With --event, the exit status is 0 when the trigger matches and 1 when it does not.`;

/** Builds the command-line program. Each command's module is loaded only when it runs, to keep start-up fast. */
export function buildProgram(): Command {
  const program = new Command("koala-replay")
    .description("Replay exported Segment event archives into Koala")
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError("(run koala-replay --help for usage)")
    .addHelpText("after", EXIT_STATUS_HELP)
    .exitOverride();

  program
    .command("send")
    .description("map every event of the inputs to Koala requests and send them (or print them with --dry-run)")
    .argument("[inputs...]", "files, directories (walked recursively) or - for stdin; stdin when none is given")
    .option("--public-key <key>", "Koala public key (Settings › Install); default: $KOALA_PUBLIC_KEY")
    .option("--dry-run", "send nothing; print each request to stdout as one JSON line")
    .option("--endpoint <url>", "Koala API base URL", DEFAULT_ENDPOINT)
    .option("--concurrency <n>", "requests in flight at once", String(DEFAULT_CONCURRENCY))
    .option("--browser-events <policy>", "analytics.js track events: skip (as Segment does), include, or before:<ISO date>", "skip")
    .addOption(new Option("--format <format>", "input format; detected from the content when absent").choices(["jsonl", "json", "csv"]))
    .option("-c, --config <path>", "mapping config file (default: koala-replay.config.json in the working directory, else Segment's two presets)")
    .option("--filter <trigger>", "send only events matching this trigger (full FQL), before the mappings apply")
    .option("--since <date>", "send only events whose timestamp is at or after this ISO-8601 date or time")
    .option("--until <date>", "send only events whose timestamp is before this ISO-8601 date or time")
    .option("--csv-table <name>", "warehouse table a CSV file was exported from (tracks, identifies, users, pages, screens, groups, aliases, or an event table such as order_completed); default: the file name")
    .option("--csv-type <type>", "event type of every row of a hand-made CSV without a type column")
    .option("--csv-numbers", "convert number-like CSV cells in properties, traits and context to numbers (default: kept as text)")
    .option("-q, --quiet", "print no warnings and no summary")
    .addHelpText("after", `${SEND_EXAMPLES}\n${CSV_HELP}\n${EXIT_STATUS_HELP}`)
    .action(async (inputs: string[], options: Record<string, unknown>) => {
      const { sendCommand } = await import("./commands/send.js");
      process.exitCode = await sendCommand(inputs, options);
    });

  program
    .command("init")
    .description("write koala-replay.config.json holding Segment's two Koala presets, ready to edit")
    .argument("[path]", "where to write the config", "koala-replay.config.json")
    .addHelpText("after", "\nExamples:\n  koala-replay init\n  koala-replay init configs/backfill.json\n\nAn existing file is never overwritten.")
    .action(async (path: string) => {
      const { initCommand } = await import("./commands/init.js");
      await initCommand(path);
    });

  program
    .command("check")
    .description("check a trigger: print its error with the position, or its normalised form, and test it on an event")
    .option("--trigger <trigger>", "trigger to compile")
    .option("--dialect <dialect>", "subscription (Segment's trigger subset, used by mappings) or fql (the full language, used by --filter)", "subscription")
    .option("--event <json|file>", "event to evaluate the trigger on: inline JSON or a file holding one event")
    .addHelpText("after", `${CHECK_EXAMPLES}\n${EXIT_STATUS_HELP}`)
    .action(async (options: Record<string, unknown>) => {
      const { checkTriggerCommand } = await import("./commands/check.js");
      process.exitCode = checkTriggerCommand(options);
    });

  return program;
}

/** Runs the program with `argv` and sets the exit status; the one place where errors are caught. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has printed its message already; help and version are successes.
    return error.exitCode === 0 ? ExitCode.done : ExitCode.usage;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint !== undefined) {
      process.stderr.write(`  ${error.hint}\n`);
    }
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "ConfigError") {
    process.stderr.write(`error: ${error.message}\n  fix the file, or run koala-replay init in an empty folder to see a valid config\n`);
    return ExitCode.usage;
  }
  if (error instanceof Error && error.name === "RuleCompilationError") {
    process.stderr.write(`error: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (isInputNotFound(error)) {
    process.stderr.write(`error: ${error.message}\n  check the path; run koala-replay send --help for the inputs it accepts\n`);
    return ExitCode.usage;
  }
  process.stderr.write(`koala-replay: internal error, please report it with the command you ran\n${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.incomplete;
}

function isInputNotFound(error: unknown): error is Error {
  return error instanceof Error && error.name === "InputNotFoundError";
}
