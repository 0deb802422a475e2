/**
 * Joins the lines of a summary that wraps its rows at 80 columns back into one line of text, so
 * that a test can look for a fact whatever the width. A path broken after a `/` is joined without
 * a space. Any other line break and its indentation become one space, and so does a run of spaces.
 */
export function unwrapSummary(text: string): string {
  return text.replace(/\/\n +/g, "/").replace(/\s+/g, " ");
}
