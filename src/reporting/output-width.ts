/** Columns that text output is wrapped to when it goes to a pipe or a file, or to a terminal that reports no width. */
export const DEFAULT_TEXT_WIDTH = 80;

/**
 * Returns the width in columns of the output that `stream` reaches: COLUMNS when it is set to a
 * positive whole number, else the terminal's width, else undefined (a pipe or a file).
 */
export function reportedWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number | undefined {
  const columns = Number(env["COLUMNS"]);
  if (Number.isInteger(columns) && columns > 0) {
    return columns;
  }
  return stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0 ? stream.columns : undefined;
}

/** Returns the columns that text written to `stream` is wrapped to: its reported width, else `DEFAULT_TEXT_WIDTH`. */
export function textWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number {
  return reportedWidth(stream, env) ?? DEFAULT_TEXT_WIDTH;
}
