import { wrapStderrMessage } from "./stderr-message.js";
import { writeStderr } from "./stdout-pipe.js";

/** Formats `warning: <message>` wrapped to the width of stderr, with continuation lines indented by two spaces. */
export function formatWarning(message: string): string {
  return wrapStderrMessage(`warning: ${message}`);
}

/** Writes `warning: <message>` to stderr, wrapped to its width. */
export function writeWarning(message: string): void {
  writeStderr(`${formatWarning(message)}\n`);
}
