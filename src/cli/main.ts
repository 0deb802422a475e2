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

const SEND_EXAMPLES = `
Examples:
  # preview the requests for an S3 archive folder, one JSON line per request
  koala-replay send --dry-run ./segment-logs

  # replay a gzip archive into Koala
  KOALA_PUBLIC_KEY=<key> koala-replay send events.jsonl.gz

  # include analytics.js track events recorded before Koala's pixel went live
  koala-replay send --dry-run --browser-events before:2024-03-01 ./segment-logs

  # read from a pipe
  gunzip -c export.gz | koala-replay send --dry-run - | jq .body.email`;

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
    .option("-q, --quiet", "print no warnings and no summary")
    .addHelpText("after", `${SEND_EXAMPLES}\n${EXIT_STATUS_HELP}`)
    .action(async (inputs: string[], options: Record<string, unknown>) => {
      const { sendCommand } = await import("./commands/send.js");
      process.exitCode = await sendCommand(inputs, options);
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
