import { isatty } from "node:tty";
import { UsageError } from "./errors.js";
import { toolCommand } from "./tool-command.js";

/** Checks whether standard input is a terminal, without creating the `process.stdin` stream. */
export function isStdinTerminal(): boolean {
  return isatty(0);
}

/**
 * Returns the inputs to read: the ones given, else stdin (`-`) when it is a pipe or a file. Without
 * inputs on a terminal it throws a usage error, because a run that waits silently for typed events
 * looks like a hang, and the user most likely forgot the path.
 */
export function resolveInputs(inputs: readonly string[], stdinIsTerminal: boolean, commandName: string): string[] {
  if (inputs.length > 0) {
    return [...inputs];
  }
  if (stdinIsTerminal) {
    throw new UsageError(
      "no input given",
      `pass files or directories (${toolCommand()} ${commandName} <path>…), pipe events in, or give - to type events in the terminal`,
    );
  }
  return ["-"];
}

/** Returns the line printed before events are read from a terminal with `-`, or undefined when stdin is not read there. */
export function terminalInputNotice(inputs: readonly string[], stdinIsTerminal: boolean): string | undefined {
  if (!stdinIsTerminal || !inputs.includes("-")) {
    return undefined;
  }
  return "koala-replay: reading events from the terminal, one JSON object per line, until Ctrl-D. To read a file, pass its path or pipe it in.";
}
