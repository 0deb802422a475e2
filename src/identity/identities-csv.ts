import { parse } from "csv-parse";
import type { Readable } from "node:stream";
import type { RowSink } from "./identities-file.js";
import { IDENTITIES_COLUMNS_HINT, IdentitiesFileError } from "./identities-file-error.js";
import { chooseFields, normalizeFieldName, readIdentityRow, type RowFields } from "./identity-row.js";
import { findQuoteProblem, type QuoteProblem } from "../inputs/csv/quote-check.js";

interface ParsedRecord {
  record: string[];
  info: { lines: number };
  /** The record's text as read, for checking its quotes. */
  raw: string;
}

/**
 * Reads a CSV file with a header row. Headers match case-insensitively and ignore `_`, `-`, `.` and spaces, so a
 * warehouse `users` or `identifies` export works as it is. A row with fewer or more cells than the
 * header is reported, and so is a row whose quotes break CSV's rules: csv-parse reads such a row
 * as text (`relax_quotes`), so that the rows after it are not lost, and its raw text is checked.
 * Reading stops at the first row read after `signal` is aborted.
 */
export async function readCsvIdentities(stream: Readable, name: string, sink: RowSink, signal?: AbortSignal): Promise<void> {
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    raw: true,
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      const line = typeof error?.["lines"] === "number" ? error["lines"] : 0;
      sink({ kind: "problem", message: `is not valid CSV (${error?.message ?? "unknown error"})` }, line);
      return undefined;
    },
  });
  // pipe() does not pass a read error on, and the loop below would wait for ever without it.
  stream.once("error", (error) => parser.destroy(error));
  stream.pipe(parser);

  let header: { fields: RowFields; columnOf: Map<string, number>; width: number } | undefined;

  for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
    // Leaving the loop destroys the parser, and the caller closes the file.
    if (signal?.aborted === true) {
      return;
    }
    if (header === undefined) {
      header = readHeader(parsed.record, name);
      continue;
    }

    const { record, info, raw } = parsed;
    const quoteProblem = raw.includes('"') ? findQuoteProblem(raw) : undefined;
    if (quoteProblem !== undefined) {
      sink({ kind: "problem", message: `has a misplaced double quote in cell ${quoteProblem.column} (${describeQuoteKind(quoteProblem)}); double each quote inside a quoted cell` }, info.lines);
      continue;
    }
    if (record.length !== header.width) {
      const message = `has ${record.length} cells where the header has ${header.width}`;
      sink({ kind: "problem", message }, info.lines);
      continue;
    }
    const columnOf = header.columnOf;
    sink(readIdentityRow(header.fields, (field) => record[columnOf.get(field)!]), info.lines);
  }
}

function readHeader(cells: string[], name: string): { fields: RowFields; columnOf: Map<string, number>; width: number } {
  const columnOf = new Map<string, number>();
  cells.forEach((cell, index) => {
    const field = normalizeFieldName(cell.replace(/^'(.*)'$/, "$1"));
    if (!columnOf.has(field)) columnOf.set(field, index);
  });

  const fields = chooseFields(new Set(columnOf.keys()));
  const missing = [
    ...(fields.email === undefined ? ["email column"] : []),
    ...(fields.userId === undefined && fields.anonymousId === undefined ? ["user_id, id or anonymous_id column"] : []),
  ];
  if (missing.length > 0) {
    throw new IdentitiesFileError(
      `identities file ${name} has no ${missing.join(" and no ")} in its header (found ${cells.map((cell) => JSON.stringify(cell)).join(", ")})`,
      name,
      IDENTITIES_COLUMNS_HINT,
    );
  }
  return { fields, columnOf, width: cells.length };
}

function describeQuoteKind(problem: QuoteProblem): string {
  return problem.kind === "quote-in-unquoted-cell" ? "a quote in a cell that is not quoted" : "text after the cell's closing quote";
}
