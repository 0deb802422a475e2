import { escapeControlCharacters } from "../reporting/style.js";

/** A commander error reworded as koala-replay's own: the problem, then the next step. */
export interface UsageMessage {
  message: string;
  hint: string;
}

/**
 * Rewords the message of a commander error (`error: unknown option '--dry-runn'` and, on the next
 * line, `(Did you mean --dry-run?)`) as koala-replay prints errors. Its control characters are
 * escaped, because an option value typed or pasted on the command line may contain some.
 */
export function rewordCommanderError(commanderMessage: string): UsageMessage {
  const [first = "", ...rest] = commanderMessage.replace(/^error: /, "").split("\n");
  const suggestions = rest
    .map((line) => line.trim().replace(/^\((.*)\)$/, "$1"))
    .filter((line) => line !== "")
    .map((line) => escapeControlCharacters(line));
  const hint = [...suggestions, "Add --help to the command for its usage."].join(" ");
  return { message: escapeControlCharacters(first), hint };
}
