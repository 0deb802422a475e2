import { escapeControlCharacters } from "../reporting/style.js";

/** A commander error reworded as koala-replay's own: the problem, then the next step. */
export interface UsageMessage {
  message: string;
  hint: string;
}

/**
 * commander's suggestion, which it appends as the message's last line (commander 14, `suggestSimilar`).
 * Only this line is split off: any other newline belongs to a value typed on the command line.
 */
const SUGGESTION_LINE = /\n\((Did you mean [^\n]*\?)\)$/;

/**
 * Rewords the message of a commander error (`error: unknown option '--dry-runn'` and, on the next
 * line, `(Did you mean --dry-run?)`) as koala-replay prints errors. Its control characters are
 * escaped, because an option value typed or pasted on the command line may contain some.
 */
export function rewordCommanderError(commanderMessage: string): UsageMessage {
  // The value after `=` of an option that does not exist may be a key typed with a misspelt name (`--publicKey=pk_…`).
  const text = commanderMessage.replace(/^error: /, "").replace(/^(unknown option '-[^=']*)=[^]*'/, "$1=…' (its value is not shown)");
  const suggestion = SUGGESTION_LINE.exec(text);
  const problem = suggestion === null ? text : text.slice(0, suggestion.index);
  const nextSteps = suggestion === null ? [] : [escapeControlCharacters(suggestion[1] ?? "")];
  const hint = [...nextSteps, "Add --help to the command for its usage."].join(" ");
  return { message: escapeControlCharacters(problem), hint };
}
