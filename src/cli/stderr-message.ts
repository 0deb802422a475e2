import { textWidth } from "../reporting/output-width.js";
import { wrapMessage } from "../reporting/wrap-text.js";
import { writeStderr } from "./stdout-pipe.js";
import { toolCommand } from "./tool-command.js";

/**
 * Wraps each line of a message for stderr to its width. A line that starts with the command that
 * runs koala-replay stays whole, because a command broken over two lines runs its first half when
 * pasted into a shell.
 */
export function wrapStderrMessage(text: string, width: number = textWidth(process.stderr)): string {
  const command = `${toolCommand()} `;
  return wrapMessage(text, width, (line) => line.trimStart().startsWith(command));
}

/**
 * Formats `error: <message>` for stderr, with `hint`, the next step, on the lines below it,
 * indented by two spaces. Both are wrapped as `wrapStderrMessage` wraps them.
 */
export function formatError(message: string, hint?: string): string {
  const text = hint === undefined || hint === "" ? `error: ${message}` : `error: ${message}\n  ${hint}`;
  return wrapStderrMessage(text);
}

/** Writes `error: <message>` and its hint to stderr, wrapped to its width. */
export function writeError(message: string, hint?: string): void {
  writeStderr(`${formatError(message, hint)}\n`);
}
