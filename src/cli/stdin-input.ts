import { statSync, type Stats } from "node:fs";
import { isatty } from "node:tty";
import { isStandardInput } from "../inputs/read-once.js";
import { UsageError } from "./errors.js";
import { toolCommand } from "./tool-command.js";

/** Checks whether standard input is a terminal, without creating the `process.stdin` stream. */
export function isStdinTerminal(): boolean {
  return isatty(0);
}

/**
 * Returns the inputs to read: the ones given, else stdin (`-`) when it is a pipe or a file. Without
 * inputs on a terminal it throws a usage error, because a run that waits silently for typed events
 * looks like a hang, and the user most likely forgot the path. It throws one too when `-` and a
 * path of standard input (`/dev/stdin`, `/proc/self/fd/0`) are both given.
 */
export function resolveInputs(inputs: readonly string[], stdinIsTerminal: boolean, commandName: string): string[] {
  if (inputs.length > 0) {
    rejectStandardInputNamedTwice(inputs);
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

/**
 * Rejects `-` given with another name of standard input. Both would read the same stream: the
 * second read would get none of the events, or wait for ever on a terminal. A file redirected to
 * standard input and also named by its path is the same file read twice, and rejected too.
 */
function rejectStandardInputNamedTwice(inputs: readonly string[]): void {
  if (!inputs.includes("-")) {
    return;
  }
  for (const input of inputs) {
    if (input !== "-" && isStandardInput(statOrUndefined(input))) {
      throw new UsageError(`- and ${input} both name standard input, which can be read only once`, `give either - or ${input}, not both`);
    }
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    // A path that cannot be examined is reported when it is read.
    return undefined;
  }
}
