import { CommanderError, type Command } from "commander";
import { ExitCode, UsageError } from "./errors.js";
import { tuneGarbageCollector } from "./heap-tuning.js";
import { buildProgram } from "./program.js";
import { handleClosedStdout, ignoreClosedStderr, stdoutWriteErrorCode, writeStderr } from "./stdout-pipe.js";
import { withToolCommand } from "./tool-command.js";

export { buildProgram } from "./program.js";

/**
 * Errors a user causes and can fix, by class name: the modules that throw them are not imported
 * here, to keep start-up fast. Each is printed as its message and a hint, without a stack trace.
 */
const USER_ERROR_HINTS: Readonly<Record<string, string>> = {
  InputNotFoundError: "check the path; run koala-replay COMMAND --help for the inputs it accepts",
  ReportPathError: "",
  ConfigError: "fix the problems listed. To compare the file with a valid config, write one with:\n    koala-replay init example.config.json",
  RuleCompilationError: "",
  TriggerSyntaxError: "fix the trigger; the message points at the problem, and koala-replay check --trigger '<trigger>' tests it",
  StateMismatchError: "the inputs changed since the checkpoint: run with --restart in place of --resume to start over",
  DestinationMismatchError: "run with --restart in place of --resume to send everything to this destination, or give this run its own checkpoint with --state <path>",
  CannotResumeError: "run without --resume to start over, or give the checkpoint with --state <path>",
  InvalidStateFileError: "",
  InvalidDeadLetterLineError: "the dead-letter file was changed by hand; fix the line or remove it",
  DeadLetterPathError: "",
  StatePathError: "",
  IdentitiesFileError: "",
  IdentityGraphWriteError: "",
};

/** Exit statuses of the errors of `USER_ERROR_HINTS` that are not usage errors: the command was right, the disk failed. */
const USER_ERROR_EXIT_CODES: Readonly<Record<string, number>> = {
  IdentityGraphWriteError: ExitCode.ioError,
};

/** Runs the program with `argv` and sets the exit status; the one place where errors are caught. */
export async function main(argv: readonly string[]): Promise<void> {
  handleClosedStdout();
  ignoreClosedStderr();
  tuneGarbageCollector();
  const program = buildProgram();
  try {
    await program.parseAsync(withoutHelpOfUnknownCommand(program, argv));
  } catch (error) {
    const commandName = program.commands.find((command) => argv.includes(command.name()))?.name() ?? "COMMAND";
    process.exitCode = await reportError(error, commandName, publicKeysOf(argv, process.env));
  }
  // The error of the last write to stdout, such as the --json report, comes on a later turn.
  await new Promise((resolve) => setImmediate(resolve));
  if (stdoutWriteErrorCode() !== undefined && OUTPUT_FAILURE_REPLACES.has(Number(process.exitCode ?? ExitCode.done))) {
    process.exitCode = ExitCode.ioError;
  }
}

/**
 * Exit statuses that a failed write to stdout replaces with `ExitCode.ioError`. A usage error,
 * a fatal API response and an interruption describe the run better, so they are kept.
 */
const OUTPUT_FAILURE_REPLACES: ReadonlySet<number> = new Set([ExitCode.done, ExitCode.incomplete, ExitCode.outputClosed]);

/**
 * Turns `help <name>` for a name that is no command into `<name>`, and drops `--help` after such a
 * name. commander prints the whole help for both, without saying which name it did not know. As a
 * command, the name gets commander's "unknown command" error with its "Did you mean" suggestion.
 */
function withoutHelpOfUnknownCommand(program: Command, argv: readonly string[]): string[] {
  const [node, script, first, name] = argv;
  if (node === undefined || script === undefined || first === undefined) {
    return [...argv];
  }
  if (first === "help" && name !== undefined && !name.startsWith("-") && !isCommand(program, name)) {
    return [node, script, name, ...argv.slice(4)];
  }
  // `sendd --help` would print the program's help and exit 0, as if the misspelt command were fine.
  if (!first.startsWith("-") && first !== "help" && !isCommand(program, first)) {
    return argv.filter((arg) => arg !== "--help" && arg !== "-h");
  }
  return [...argv];
}

function isCommand(program: Command, name: string): boolean {
  return program.commands.some((command) => command.name() === name || command.aliases().includes(name));
}

/**
 * Returns the public keys given with `--public-key` or KOALA_PUBLIC_KEY. An error can quote a
 * value that contains a key, such as an --endpoint URL with the key in its query string, so errors
 * are printed with these keys masked.
 */
function publicKeysOf(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const keys = [env["KOALA_PUBLIC_KEY"]];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "--public-key") {
      keys.push(argv[index + 1]);
    } else if (arg.startsWith("--public-key=")) {
      keys.push(arg.slice("--public-key=".length));
    }
  }
  return keys.map((key) => key?.trim() ?? "").filter((key) => key !== "");
}

async function reportError(error: unknown, commandName: string, publicKeys: readonly string[]): Promise<number> {
  // Help and version are successes. commander prints the help it shows for a missing command itself,
  // and leaves every other message to be printed here (see `buildProgram`).
  if (error instanceof CommanderError && error.exitCode === 0) {
    return ExitCode.done;
  }
  // Loaded here, as the wrapping code is, because `--version` and `--help` do not need it.
  const { maskSecret } = await import("../reporting/mask.js");
  const mask = (text: string): string => publicKeys.reduce((masked, key) => maskSecret(masked, key), text);
  if (error instanceof CommanderError) {
    if (error.code !== "commander.help") {
      const { rewordCommanderError } = await import("./commander-error.js");
      // commander quotes a misspelt option whole (`--endpont=<url with the key>`), and an unknown command as typed.
      const { message, hint } = rewordCommanderError(mask(error.message));
      await printUserError(message, hint);
    }
    return ExitCode.usage;
  }
  if (error instanceof UsageError) {
    // The message is one line that may quote an option value, whose newline would start a line of its own.
    const { escapeControlCharacters } = await import("../reporting/style.js");
    await printUserError(escapeControlCharacters(mask(error.message)), error.hint === undefined ? undefined : mask(error.hint));
    return error.exitCode;
  }
  if (error instanceof Error && Object.hasOwn(USER_ERROR_HINTS, error.name)) {
    const ownHint = (error as { hint?: unknown }).hint;
    const hint = typeof ownHint === "string" && ownHint !== "" ? ownHint : USER_ERROR_HINTS[error.name];
    await printUserError(mask(error.message), hint === undefined ? undefined : mask(withToolCommand(hint.replace("COMMAND", commandName))));
    return USER_ERROR_EXIT_CODES[error.name] ?? ExitCode.usage;
  }
  writeStderr(`koala-replay: internal error, please report it with the command you ran\n${mask((error as Error)?.stack ?? String(error))}\n`);
  return ExitCode.incomplete;
}

/** Prints a user error, wrapped as warnings are. The wrapping code is loaded here, because `--version` and `--help` do not need it. */
async function printUserError(message: string, hint: string | undefined): Promise<void> {
  const { writeError } = await import("./stderr-message.js");
  writeError(message, hint);
}
