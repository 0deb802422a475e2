import { Command, Option } from "commander";
import type { RawCheckOptions } from "./commands/check.js";
import type { RawInspectOptions } from "./commands/inspect.js";
import type { RawPreviewOptions } from "./commands/preview.js";
import {
  CHECK_EXAMPLES,
  CSV_HELP,
  EXIT_STATUS_HELP,
  INIT_HELP,
  INSPECT_EXAMPLES,
  PREVIEW_EXAMPLES,
  PROGRAM_EXAMPLES,
  READ_ONLY_EXIT_STATUS_HELP,
  SEND_EXAMPLES,
} from "./help-text.js";
import { withToolCommand } from "./tool-command.js";
import { DEFAULT_CONCURRENCY, DEFAULT_ENDPOINT } from "./option-defaults.js";
import type { RawSendOptions } from "./send-options.js";
import { packageVersion } from "./version.js";

/** Handlers of the commands, each returning the exit status. Tests pass their own to read the parsed options. */
export interface CommandActions {
  send(inputs: string[], options: RawSendOptions): Promise<number>;
  preview(inputs: string[], options: RawPreviewOptions): Promise<number>;
  inspect(inputs: string[], options: RawInspectOptions): Promise<number>;
  init(path: string): Promise<number>;
  check(options: RawCheckOptions): Promise<number>;
}

/** Loads each command's module only when it runs, to keep start-up fast. */
const lazyActions: CommandActions = {
  send: async (inputs, options) => {
    // The worker threads load their modules while this thread loads the send command's.
    (await import("../pipeline/early-workers.js")).startWorkersEarly(inputs);
    return (await import("./commands/send.js")).sendCommand(inputs, options);
  },
  preview: async (inputs, options) => (await import("./commands/preview.js")).previewCommand(inputs, options),
  inspect: async (inputs, options) => (await import("./commands/inspect.js")).inspectCommand(inputs, options),
  init: async (path) => {
    await (await import("./commands/init.js")).initCommand(path);
    return 0;
  },
  check: async (options) => (await import("./commands/check.js")).checkCommand(options),
};

const INPUTS_HELP =
  "files, named pipes, <(…) pipes, directories (walked recursively) or - for stdin; without inputs, stdin is read when it is a pipe or a file, not a terminal";
const CSV_TABLE_HELP =
  "warehouse table the CSV files were exported from (tracks, identifies, users, pages, screens, groups, aliases, or an event table such as order_completed), for every CSV file read; <name>=<file> sets the table of one file, and may be repeated; default: each file's name";
const CSV_TYPE_HELP = "event type of every row of a hand-made CSV without a type column";
const CSV_NUMBERS_HELP = "convert number-like CSV cells in properties, traits and context to numbers (default: kept as text)";
const CONFIG_HELP = "mapping config file (default: koala-replay.config.json in the working directory, else Segment's two presets)";
const BROWSER_EVENTS_HELP = "analytics.js track events: skip (as Segment does), include, or before:<ISO date> (UTC unless it has a zone)";
const FORECAST_IDENTITIES_HELP =
  "CSV or JSONL of userId/anonymousId and email, used as send uses it to fill the email of events that have none; needed to stitch events read from stdin or a pipe";
const EXCLUDE_EMAILS_HELP =
  "comma-separated email patterns (* any characters, ? one, \\* \\? \\\\ literal; case-insensitive), such as '*@yourcompany.com': entries whose email matches one, stitched or not, are not sent; adds to excludeEmails in the config, and so does each repeat of the option";
const NO_STITCH_SEND_HELP = "do not fill missing emails from identify calls and --identities: send exactly what Segment's destination would send";

/**
 * Joins the values of a repeated `--exclude-emails` with a comma, so that each one adds patterns.
 * Commander keeps only the last value of an option given twice, which would send the events of the
 * people that the earlier values name.
 */
/** Collects the values of an option that may be given more than once. */
function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function joinPatternLists(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous},${value}`;
}

const NOT_SENT_HELP =
  "write one JSON line (mode 0600) for each event that the run did not send in full, and for each line it could not read: " +
  "its input and line, the reasons (category, reason, message and mapping of each skipped or invalid entry) and the event (or the raw line). Entries that fail delivery go to the dead-letter file instead. " +
  "Fields: docs/not-sent.md in the package";

/**
 * Builds the command-line program. Commander's errors are thrown (exitOverride) and not printed
 * (outputError), so that `main` prints them as koala-replay's own errors and sets the exit status.
 */
export function buildProgram(actions: CommandActions = lazyActions): Command {
  const program = new Command("koala-replay")
    .description("Replay exported Segment event archives into Koala")
    .version(packageVersion(), "-V, --version", "print the version")
    .configureOutput({ outputError: () => {} })
    .addHelpText("after", () => withToolCommand(`${PROGRAM_EXAMPLES}\n${EXIT_STATUS_HELP}`))
    .exitOverride();

  program
    .command("send")
    .description("map every event of the inputs to Koala requests and send them (or print them with --dry-run)")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--public-key <key>", "Koala public key (Settings › Install); default: $KOALA_PUBLIC_KEY")
    .option("--dry-run", "send nothing; print each request to stdout as one JSON line")
    .option("--endpoint <url>", "Koala API base URL", DEFAULT_ENDPOINT)
    .option("--concurrency <requests>", "maximum requests in flight at once; below it the number adapts to Koala's answers", String(DEFAULT_CONCURRENCY))
    .option("--no-adaptive-concurrency", "keep --concurrency requests in flight instead of backing off on 429s and slow answers")
    .option("--max-rps <requests>", "maximum requests started per second (default: no limit)")
    .option("--max-batch-size <entries>", "maximum entries of each kind in one request, 1 to 30", "30")
    .option("--timeout-ms <ms>", "timeout of one request, in milliseconds", "30000")
    .option("--max-attempts <attempts>", "attempts per request, the first one included, before its entries go to the dead-letter file (held instead during an outage, see --max-outage-ms)", "10")
    .option("--max-outage-ms <ms>", "stop the run, resumable and with no dead letters, once Koala has not responded for this long while requests fail with connection errors or 5xx (of several persons, or of one when GET /auth fails too), in milliseconds", "120000")
    .option("--state <path>", "checkpoint file recording what was delivered (default: .koala-replay/state-<hash of the inputs>.json)")
    .option("--resume", "skip the events that the checkpoint records as delivered or dead-lettered (with --dry-run: print only what the resumed run would send)")
    .option("--restart", "start over when the checkpoint is of an earlier run that did not finish: send every event again and replace it")
    .option("--dead-letter <path>", "file (JSONL, mode 0600) of entries that were not delivered (default: next to the state file)")
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .addOption(formatOption())
    .option("-c, --config <path>", CONFIG_HELP)
    .option("--filter <trigger>", "send only events matching this trigger (full FQL), before the mappings apply")
    .option("--since <date>", "send only events whose timestamp is at or after this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--until <date>", "send only events whose timestamp is before this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--identities <file>", "CSV or JSONL of userId/anonymousId and email, used to fill the email of events that have none (for example a warehouse users export)")
    .option("--no-stitch", NO_STITCH_SEND_HELP)
    .option("--exclude-emails <patterns>", EXCLUDE_EMAILS_HELP, joinPatternLists)
    .option("--csv-table <name>", CSV_TABLE_HELP, collectValues)
    .option("--csv-type <type>", CSV_TYPE_HELP)
    .option("--csv-numbers", CSV_NUMBERS_HELP)
    .option("--report <path>", "write the run's report as JSON to this file (public key masked; keys: docs/reports.md in the package)")
    .option("--not-sent <path>", NOT_SENT_HELP)
    .option("--json", "print the run's report as JSON on stdout instead of the text summary (not with --dry-run)")
    .option("-v, --verbose", "log each retry, each entry given up on and each event that could not be mapped, with the reason (emails shown as email#<first 8 hex digits of their SHA-256>)")
    .option("-q, --quiet", "print no warnings, no progress and no summary")
    .option("--no-progress", "never show the progress line (drawn only on a terminal outside CI; elsewhere a plain line every 30 s)")
    .addHelpText("after", () => withToolCommand(`${SEND_EXAMPLES}\n${CSV_HELP}\n${EXIT_STATUS_HELP}`))
    .exitOverride()
    .action(async (inputs: string[], options: RawSendOptions) => {
      process.exitCode = await actions.send(inputs, options);
    });

  program
    .command("preview")
    .description("show the first events each mapping takes and the request each becomes, and why other events would not be sent")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--limit <events>", "examples per mapping, and samples per reason for not sending; reading still stops at --max-events (to list every event not sent: send --dry-run --not-sent <file>)", "3")
    .option("--max-events <events>", "stop reading after this many events, even when a mapping has fewer examples", "100000")
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .addOption(formatOption())
    .option("--csv-table <name>", CSV_TABLE_HELP, collectValues)
    .option("--csv-type <type>", CSV_TYPE_HELP)
    .option("--csv-numbers", CSV_NUMBERS_HELP)
    .addOption(new Option("--layout <layout>", "event and request one after the other, or side by side (auto: side by side on a terminal of 140 columns or more)").choices(["auto", "stacked", "side-by-side"]).default("auto"))
    .option("-c, --config <path>", CONFIG_HELP)
    .option("--filter <trigger>", "take only events matching this trigger (full FQL), as send --filter does")
    .option("--since <date>", "take only events whose timestamp is at or after this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--until <date>", "take only events whose timestamp is before this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--endpoint <url>", "Koala API base URL shown in the requests", DEFAULT_ENDPOINT)
    .option("--public-key <key>", "Koala public key shown (masked) in the requests; default: $KOALA_PUBLIC_KEY")
    .option("--identities <file>", FORECAST_IDENTITIES_HELP)
    .option("--no-stitch", "show what send --no-stitch would send, without reading the input files first for identities (stitching is off for stdin and pipes without --identities)")
    .option("--exclude-emails <patterns>", EXCLUDE_EMAILS_HELP, joinPatternLists)
    .addHelpText("after", () => withToolCommand(`${PREVIEW_EXAMPLES}\n${READ_ONLY_EXIT_STATUS_HELP}`))
    .exitOverride()
    .action(async (inputs: string[], options: RawPreviewOptions) => {
      process.exitCode = await actions.preview(inputs, options);
    });

  program
    .command("inspect")
    .description("count what the inputs contain: event types and names, libraries, time range, identities, and what each mapping would take")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--json", "print the counts as JSON (stable keys: docs/reports.md in the package)")
    .option("--top <names>", "track event names listed, most frequent first", "10")
    .option("-c, --config <path>", CONFIG_HELP)
    .option("--filter <trigger>", "count what each mapping would take of the events matching this trigger (full FQL), as send --filter does")
    .option("--since <date>", "as --filter, for events whose timestamp is at or after this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--until <date>", "as --filter, for events whose timestamp is before this ISO-8601 date or time (UTC unless it has a zone)")
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .option("--identities <file>", FORECAST_IDENTITIES_HELP)
    .option("--no-stitch", "count what send --no-stitch would send, without reading the input files first for identities (stitching is off for stdin and pipes without --identities)")
    .option("--exclude-emails <patterns>", EXCLUDE_EMAILS_HELP, joinPatternLists)
    .addOption(formatOption())
    .option("--csv-table <name>", CSV_TABLE_HELP, collectValues)
    .option("--csv-type <type>", CSV_TYPE_HELP)
    .option("--csv-numbers", CSV_NUMBERS_HELP)
    .addHelpText("after", () => withToolCommand(`${INSPECT_EXAMPLES}\n${READ_ONLY_EXIT_STATUS_HELP}`))
    .exitOverride()
    .action(async (inputs: string[], options: RawInspectOptions) => {
      process.exitCode = await actions.inspect(inputs, options);
    });

  program
    .command("init")
    .description("write koala-replay.config.json holding Segment's two Koala presets, ready to edit")
    .argument("[path]", "where to write the config", "koala-replay.config.json")
    .addHelpText("after", () => withToolCommand(INIT_HELP))
    .exitOverride()
    .action(async (path: string) => {
      process.exitCode = await actions.init(path);
    });

  program
    .command("check")
    .description("check the config, its triggers and the public key before a send; or check one trigger with --trigger")
    .option("-c, --config <path>", CONFIG_HELP)
    .option("--public-key <key>", "Koala public key to test with GET /web/projects/<key>/auth; default: $KOALA_PUBLIC_KEY")
    .option("--endpoint <url>", "Koala API base URL", DEFAULT_ENDPOINT)
    .option("--trigger <trigger>", "check only this trigger: print its error with the position, or its normalised form")
    .option("--dialect <dialect>", "subscription (Segment's trigger subset, used by mappings) or fql (the full language, used by --filter)", "subscription")
    .option("--event <json|file>", "event to evaluate the trigger on, or without --trigger every mapping of the config: inline JSON or a file holding one event")
    .option("--exclude-emails <patterns>", `${EXCLUDE_EMAILS_HELP}; check validates them and lists them with the config's`, joinPatternLists)
    .addHelpText("after", () => withToolCommand(CHECK_EXAMPLES))
    .exitOverride()
    .action(async (options: RawCheckOptions) => {
      process.exitCode = await actions.check(options);
    });

  showDefaultsUnquoted(program);
  return program;
}

/**
 * Makes `--help` show each default as it would be typed, `(default: 8)`, where commander would
 * print the JSON of the string, `(default: "8")`, which reads as if the quotes were needed.
 */
function showDefaultsUnquoted(program: Command): void {
  for (const command of program.commands) {
    for (const option of command.options) {
      if (typeof option.defaultValue === "string" && option.defaultValueDescription === undefined) {
        option.defaultValueDescription = option.defaultValue;
      }
    }
    for (const argument of command.registeredArguments) {
      if (typeof argument.defaultValue === "string" && argument.defaultValueDescription === undefined) {
        argument.defaultValueDescription = argument.defaultValue;
      }
    }
  }
}

function formatOption(): Option {
  return new Option("--format <format>", "input format (ndjson is another name for jsonl); detected from the content when absent").choices(["jsonl", "ndjson", "json", "csv"]);
}
