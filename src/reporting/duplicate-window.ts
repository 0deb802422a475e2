import { formatCount } from "./count-format.js";

/**
 * Describes how far back repeated messageIds were looked for once the inputs had more than the check
 * remembers (`MessageIdSet.window`): among the last `window` of `unit`. `missed` describes what became
 * of a repeat further apart. `send` and `inspect` print the text after "duplicates".
 */
export function describeDuplicateWindow(window: number, unit: string, missed: string): string {
  return (
    `looked for among the last ${formatCount(window)} ${unit} or more, to keep memory flat; ${missed}. ` +
    "Koala records each message_id once, keeping the first entry"
  );
}
