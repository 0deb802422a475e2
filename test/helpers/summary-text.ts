import stringWidth from "string-width";

/**
 * Joins the lines of text that koala-replay wraps (the summary, warnings, and the text of inspect
 * and preview) back into one line, so that a test can look for a fact whatever the width. A path
 * broken after a `/` is joined without a space. Any other line break and its indentation become
 * one space, and so does a run of spaces.
 */
export function unwrapSummary(text: string): string {
  return text.replace(/\/\n +/g, "/").replace(/\s+/g, " ");
}

/** Returns the lines of `text` wider than `width` columns, as string-width measures them, without colour codes. */
export function linesWiderThan(text: string, width: number): string[] {
  return text.split("\n").filter((line) => stringWidth(line) > width);
}
