/**
 * Returns " (line N)" for the line of `offset` in a trigger of several lines, and nothing for a
 * trigger of one line, where a warning printed under the trigger's own position needs no other.
 */
export function lineNote(text: string, offset: number): string {
  if (!text.includes("\n")) return "";
  return ` (line ${text.slice(0, offset).split("\n").length})`;
}
