import { Command, Option } from "commander";
import type { RawInspectOptions } from "./commands/inspect.js";
import type { RawPreviewOptions } from "./commands/preview.js";
import {
  EXIT_STATUS_HELP,
  INSPECT_EXAMPLES,
  PREVIEW_EXAMPLES,
  PROGRAM_EXAMPLES,
  READ_ONLY_EXIT_STATUS_HELP,
  SEND_EXAMPLES,
} from "./help-text.js";
import { DEFAULT_CONCURRENCY, DEFAULT_ENDPOINT, type RawSendOptions } from "./send-options.js";
import { packageVersion } from "./version.js";

/** Handlers of the commands, each returning the exit status. Tests pass their own to read the parsed options. */
export interface CommandActions {
  send(inputs: string[], options: RawSendOptions): Promise<number>;
  preview(inputs: string[], options: RawPreviewOptions): Promise<number>;
  inspect(inputs: string[], options: RawInspectOptions): Promise<number>;
}

/** Loads each command's module only when it runs, to keep start-up fast. */
const lazyActions: CommandActions = {
  send: async (inputs, options) => (await import("./commands/send.js")).sendCommand(inputs, options),
  preview: async (inputs, options) => (await import("./commands/preview.js")).previewCommand(inputs, options),
  inspect: async (inputs, options) => (await import("./commands/inspect.js")).inspectCommand(inputs, options),
};

const INPUTS_HELP = "files, directories (walked recursively) or - for stdin; stdin when none is given";
const BROWSER_EVENTS_HELP = "analytics.js track events: skip (as Segment does), include, or before:<ISO date>";

/** Builds the command-line program. Commander's errors are thrown (exitOverride), so `main` can set the exit status. */
export function buildProgram(actions: CommandActions = lazyActions): Command {
  const program = new Command("koala-replay")
    .description("Replay exported Segment event archives into Koala")
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError("(run koala-replay <command> --help for usage)")
    .addHelpText("after", `${PROGRAM_EXAMPLES}\n${EXIT_STATUS_HELP}`)
    .exitOverride();

  program
    .command("send")
    .description("map every event of the inputs to Koala requests and send them (or print them with --dry-run)")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--public-key <key>", "Koala public key (Settings › Install); default: $KOALA_PUBLIC_KEY")
    .option("--dry-run", "send nothing; print each request to stdout as one JSON line")
    .option("--endpoint <url>", "Koala API base URL", DEFAULT_ENDPOINT)
    .option("--concurrency <requests>", "requests in flight at once", String(DEFAULT_CONCURRENCY))
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .addOption(formatOption())
    .option("--report <path>", "write the run's report as JSON to this file (public key masked)")
    .option("--json", "print the run's report as JSON on stdout instead of the text summary (not with --dry-run)")
    .option("-v, --verbose", "log each retry and each entry given up on, with its reason")
    .option("-q, --quiet", "print no warnings, no progress and no summary")
    .option("--no-progress", "never show the progress line (it is shown only on a terminal, and never in CI)")
    .addHelpText("after", `${SEND_EXAMPLES}\n${EXIT_STATUS_HELP}`)
    .exitOverride()
    .action(async (inputs: string[], options: RawSendOptions) => {
      process.exitCode = await actions.send(inputs, options);
    });

  program
    .command("preview")
    .description("show the first events each mapping takes and the request each becomes, and why other events would not be sent")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--limit <events>", "examples per mapping, and samples per reason for not sending", "3")
    .option("--max-events <events>", "stop reading after this many events, even when a mapping has fewer examples", "100000")
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .addOption(formatOption())
    .addOption(new Option("--layout <layout>", "event and request one after the other, or side by side (auto: side by side on a terminal of 140 columns or more)").choices(["auto", "stacked", "side-by-side"]).default("auto"))
    .option("--endpoint <url>", "Koala API base URL shown in the requests", DEFAULT_ENDPOINT)
    .option("--public-key <key>", "Koala public key shown (masked) in the requests; default: $KOALA_PUBLIC_KEY")
    .addHelpText("after", `${PREVIEW_EXAMPLES}\n${READ_ONLY_EXIT_STATUS_HELP}`)
    .exitOverride()
    .action(async (inputs: string[], options: RawPreviewOptions) => {
      process.exitCode = await actions.preview(inputs, options);
    });

  program
    .command("inspect")
    .description("count what the inputs contain: event types and names, libraries, time range, identities, and what each mapping would take")
    .argument("[inputs...]", INPUTS_HELP)
    .option("--json", "print the counts as JSON (stable keys, listed in the README)")
    .option("--top <names>", "track event names listed, most frequent first", "10")
    .option("--browser-events <policy>", BROWSER_EVENTS_HELP, "skip")
    .addOption(formatOption())
    .addHelpText("after", `${INSPECT_EXAMPLES}\n${READ_ONLY_EXIT_STATUS_HELP}`)
    .exitOverride()
    .action(async (inputs: string[], options: RawInspectOptions) => {
      process.exitCode = await actions.inspect(inputs, options);
    });

  return program;
}

function formatOption(): Option {
  return new Option("--format <format>", "input format; detected from the content when absent").choices(["jsonl", "json", "csv"]);
}
