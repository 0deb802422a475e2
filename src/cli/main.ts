import { CommanderError } from "commander";
import { ExitCode, UsageError } from "./errors.js";
import { tuneGarbageCollector } from "./heap-tuning.js";
import { buildProgram } from "./program.js";
import { handleClosedStdout, ignoreClosedStderr } from "./stdout-pipe.js";
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
  CannotResumeError: "run without --resume to start over, or give the checkpoint with --state <path>",
  InvalidDeadLetterLineError: "the dead-letter file was changed by hand; fix the line or remove it",
  DeadLetterPathError: "",
  StatePathError: "",
  IdentitiesFileError: "",
};

/** Runs the program with `argv` and sets the exit status; the one place where errors are caught. */
export async function main(argv: readonly string[]): Promise<void> {
  handleClosedStdout();
  ignoreClosedStderr();
  tuneGarbageCollector();
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    const commandName = program.commands.find((command) => argv.includes(command.name()))?.name() ?? "COMMAND";
    process.exitCode = await reportError(error, commandName);
  }
}

async function reportError(error: unknown, commandName: string): Promise<number> {
  if (error instanceof CommanderError) {
    // Help and version are successes. commander prints the help it shows for a missing command itself,
    // and leaves every other message to be printed here (see `buildProgram`).
    if (error.exitCode === 0) {
      return ExitCode.done;
    }
    if (error.code !== "commander.help") {
      const { rewordCommanderError } = await import("./commander-error.js");
      const { message, hint } = rewordCommanderError(error.message);
      await printUserError(message, hint);
    }
    return ExitCode.usage;
  }
  if (error instanceof UsageError) {
    await printUserError(error.message, error.hint);
    return error.exitCode;
  }
  if (error instanceof Error && Object.hasOwn(USER_ERROR_HINTS, error.name)) {
    const ownHint = (error as { hint?: unknown }).hint;
    const hint = typeof ownHint === "string" && ownHint !== "" ? ownHint : USER_ERROR_HINTS[error.name];
    await printUserError(error.message, hint === undefined ? undefined : withToolCommand(hint.replace("COMMAND", commandName)));
    return ExitCode.usage;
  }
  process.stderr.write(`koala-replay: internal error, please report it with the command you ran\n${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.incomplete;
}

/** Prints a user error, wrapped as warnings are. The wrapping code is loaded here, because `--version` and `--help` do not need it. */
async function printUserError(message: string, hint: string | undefined): Promise<void> {
  const { writeError } = await import("./stderr-message.js");
  writeError(message, hint);
}
