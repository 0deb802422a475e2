import type { Readable } from "node:stream";
import type { InputItem } from "../record.js";
import { createRowConverter, describeUnknownTable } from "./converter-factory.js";
import { createCsvParser, type ParsedRecord } from "./csv-parser.js";
import type { EventType } from "./event-type.js";
import { cleanHeader } from "./header.js";
import { isBlankRow, RowReader } from "./row-reader.js";
import { detectCsvShape } from "./shape.js";

export interface CsvOptions {
  /** The input as the user named it, shown in problems and origins. */
  input: string;
  /**
   * Warehouse table the file was exported from: `tracks`, `identifies`, `users`, `pages`, `screens`,
   * `groups`, `aliases`, or any other name for a table of one track event (`order_completed`).
   * See `tableFromFileName`.
   */
  table?: string;
  /** Whether `table` comes from the file's name rather than from `--csv-table`. */
  tableFromFileName?: boolean;
  /** Event type of rows that have no type cell: hand-made files without a `type` column. */
  type?: EventType;
  /** Whether cells that are plain decimal numbers become numbers in properties, traits and context. */
  convertNumbers: boolean;
}

/** The header of a file whose rows have no known event type, so none of them can be read. */
interface UnknownTable {
  kind: "unknown-table";
  headerLine: number;
}

/**
 * Reads CSV input (already decompressed) as a stream and yields one event per data row, or a
 * problem for a row that cannot become one. A bad row does not stop the reading, except a
 * malformed header. A file whose rows have no known event
 * type gives one problem for the whole file, on the header's line, and is not read further. The
 * first row is the header.
 * Errors of `source` itself are thrown from the iteration, because only the caller can tell a
 * failed file read from a failed gunzip. Stopping the iteration early destroys `source`.
 */
export async function* readCsvRecords(source: Readable, options: CsvOptions): AsyncIterable<InputItem> {
  const parser = createCsvParser();
  source.on("error", (error) => parser.destroy(error));
  source.pipe(parser);

  let reader: RowReader | UnknownTable | undefined;
  try {
    for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
      if (parsed.kind === "skipped") {
        yield skippedRowProblem(options.input, parsed, reader === undefined);
        if (parsed.endsInput || reader === undefined) return;
        continue;
      }
      if (reader === undefined) {
        reader = createRowReader(parsed.cells, parsed.line, options);
        continue;
      }
      if (!(reader instanceof RowReader)) {
        // A header alone gives no problem, as it would with a known table.
        if (isBlankRow(parsed.cells)) continue;
        yield unknownTableProblem(options.input, reader.headerLine);
        return;
      }
      const item = reader.read(parsed.cells, parsed.line);
      if (item !== undefined) yield item;
    }
  } finally {
    // Reached early when the caller stops iterating: the rest of the input will not be read.
    source.unpipe(parser);
    parser.destroy();
    if (!source.readableEnded) source.destroy();
  }
}

function createRowReader(headerCells: readonly string[], headerLine: number, options: CsvOptions): RowReader | UnknownTable {
  const header = cleanHeader(headerCells);
  let tableSource: "given" | "file-name" | undefined;
  if (options.table !== undefined) {
    tableSource = options.tableFromFileName === true ? "file-name" : "given";
  }
  const shape = detectCsvShape(header, tableSource);
  const converter = createRowConverter(shape, header, {
    table: options.table,
    type: options.type,
    convertNumbers: options.convertNumbers,
  });
  if (converter === undefined) return { kind: "unknown-table", headerLine };
  return new RowReader(options.input, header, converter, shape === "engage");
}

function unknownTableProblem(input: string, headerLine: number): InputItem {
  return { kind: "problem", origin: { input, line: headerLine }, reason: "unknown-csv-table", message: describeUnknownTable(input) };
}

/** Without a readable header no row can be matched to columns, so reading stops there. */
function skippedRowProblem(
  input: string,
  skipped: Extract<ParsedRecord, { kind: "skipped" }>,
  isHeader: boolean,
): InputItem {
  const message = isHeader
    ? `The header row cannot be parsed, so no row of this input can be read. ${skipped.message}`
    : skipped.message;
  return { kind: "problem", origin: { input, line: skipped.line }, reason: skipped.reason, message };
}
