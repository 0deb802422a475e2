import { Readable } from "node:stream";
import { parse, type Options } from "csv-parse/sync";
import { describe, expect, test } from "vitest";
import { createCsvParser, type ParsedRecord } from "../../src/inputs/csv/csv-parser.js";
import { RowSizeGuard, type OversizedRow } from "../../src/inputs/csv/row-size-guard.js";
import { SeededRandom } from "../triggers/support/random.js";

// The guard must cut rows exactly where csv-parse does, or a dropped row would take good rows with
// it. These tests parse its output with csv-parse and compare with csv-parse's records of the input.

/** The csv-parse options of `createCsvParser` that decide where a record ends. */
const PARSE_OPTIONS: Options = {
  bom: true,
  record_delimiter: ["\r\n", "\n", "\r"],
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
};

function guard(input: Buffer, maxRowBytes: number, pieceBytes: number): { output: Buffer; marker: string; oversized: OversizedRow[] } {
  const rowGuard = new RowSizeGuard(maxRowBytes);
  const pieces: Buffer[] = [];
  for (let start = 0; start < input.length; start += pieceBytes) {
    pieces.push(rowGuard.push(input.subarray(start, start + pieceBytes)));
  }
  pieces.push(rowGuard.end());
  const oversized: OversizedRow[] = [];
  for (let row = rowGuard.takeOversized(); row !== undefined; row = rowGuard.takeOversized()) {
    oversized.push(row);
  }
  return { output: Buffer.concat(pieces), marker: rowGuard.marker, oversized };
}

function records(input: Buffer): string[][] {
  return parse(input, PARSE_OPTIONS) as string[][];
}

/** Parses `input`, given in pieces of `pieceBytes`, as `readCsvRecords` does. */
async function parsedRecords(input: Buffer, maxRowBytes: number, pieceBytes: number): Promise<ParsedRecord[]> {
  const pieces: Buffer[] = [];
  for (let start = 0; start < input.length; start += pieceBytes) {
    pieces.push(input.subarray(start, start + pieceBytes));
  }
  const parsed: ParsedRecord[] = [];
  for await (const record of Readable.from(pieces).pipe(createCsvParser(maxRowBytes))) {
    parsed.push(record as ParsedRecord);
  }
  return parsed;
}

/** Checks that the guard's output parses to csv-parse's records of `input`, with a marker in place of each row it dropped. */
function expectCutAsCsvParse(input: Buffer, maxRowBytes: number, pieceBytes: number, context: string): void {
  const { output, marker, oversized } = guard(input, maxRowBytes, pieceBytes);
  const expected = records(input);
  const actual = records(output);
  // csv-parse skips a last row whose quote is never closed, and the guard replaces it when it is too long.
  const lastOversized = oversized[oversized.length - 1];
  const extraMarker = lastOversized?.quoteNotClosed === true ? 1 : 0;
  expect(actual.length, context).toBe(expected.length + extraMarker);
  let oversizedIndex = 0;
  actual.forEach((cells, index) => {
    if (cells.length === 1 && cells[0] === marker) {
      expect(oversized[oversizedIndex]?.bytes, context).toBeGreaterThan(maxRowBytes);
      oversizedIndex += 1;
    } else {
      expect(cells, context).toEqual(expected[index]);
    }
  });
  expect(oversizedIndex, context).toBe(oversized.length);
}

/** Checks that every record of `input` keeps its line under the limit, and every row left is read as without it. */
async function expectLinesKept(input: Buffer, maxRowBytes: number, pieceBytes: number, context: string): Promise<void> {
  const unlimited = await parsedRecords(input, 1 << 20, pieceBytes);
  const limited = await parsedRecords(input, maxRowBytes, pieceBytes);

  // Every record keeps its place: a skipped one on the line where its row starts.
  expect(limited.map((record) => record.line), context).toEqual(unlimited.map((record) => record.line));
  // Every row the limit leaves is read as it is without the limit.
  limited.forEach((record, index) => {
    if (record.kind === "row") {
      expect(record, context).toEqual(unlimited[index]);
    }
  });
}

const TOKENS = ["a", "bc", "é", " ", ",", '"', '""', "\n", "\r\n", "\r"];

/**
 * Inputs of the random tests in each encoding. A UTF-16 character takes 2 or 4 bytes, so its rows
 * get larger limits, and pieces of any length often cut a code unit in two.
 */
const ENCODINGS = [
  { name: "UTF-8", encode: (text: string) => Buffer.from(text), tokens: TOKENS, minRowBytes: 3, rowBytesRange: 20, pieceRange: 8, cutSeed: 20_240_501, cutRounds: 3_000, lineSeed: 20_240_502, lineRounds: 500 },
  {
    name: "UTF-16",
    encode: (text: string) => Buffer.from(`\ufeff${text}`, "utf16le"),
    tokens: [...TOKENS, "\u20ac", "\u{1F600}"],
    minRowBytes: 6,
    rowBytesRange: 40,
    pieceRange: 9,
    cutSeed: 20_240_503,
    cutRounds: 2_000,
    lineSeed: 20_240_504,
    lineRounds: 300,
  },
];

describe("RowSizeGuard", () => {
  test.each(ENCODINGS.map((encoding) => [encoding.name, encoding] as const))("random %s input cut as csv-parse cuts it", (_name, encoding) => {
    const random = new SeededRandom(encoding.cutSeed);
    for (let round = 0; round < encoding.cutRounds; round += 1) {
      const text = Array.from({ length: random.integer(60) }, () => random.pick(encoding.tokens)).join("");
      const maxRowBytes = encoding.minRowBytes + random.integer(encoding.rowBytesRange);
      const pieceBytes = 1 + random.integer(encoding.pieceRange);
      const context = `round ${round}: ${JSON.stringify(text)} with at most ${maxRowBytes} bytes a row`;
      expectCutAsCsvParse(encoding.encode(text), maxRowBytes, pieceBytes, context);
    }
  });

  test.each(ENCODINGS.map((encoding) => [encoding.name, encoding] as const))("random %s input keeps its line numbers", async (_name, encoding) => {
    const random = new SeededRandom(encoding.lineSeed);
    for (let round = 0; round < encoding.lineRounds; round += 1) {
      const text = Array.from({ length: random.integer(60) }, () => random.pick(encoding.tokens)).join("");
      const maxRowBytes = encoding.minRowBytes + random.integer(encoding.rowBytesRange);
      const pieceBytes = 1 + random.integer(encoding.pieceRange);
      const context = `round ${round}: ${JSON.stringify(text)} with at most ${maxRowBytes} bytes a row`;
      await expectLinesKept(encoding.encode(text), maxRowBytes, pieceBytes, context);
    }
  });

  test("input without long rows passed unchanged", () => {
    const input = Buffer.from('\ufeff"id","note"\r\nm1,"a ""quoted"" word"\nm2,"two\r\nlines"\rm3,x');

    expect(guard(input, 1 << 10, 5).output.equals(input)).toBe(true);
  });

  test("quote after a byte order mark opens a cell", () => {
    // The quoted cell hides a line break, so the row is 24 bytes long, not two short rows.
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"id\nxxxxxxxxxxxxxxxxxxx"\nm1\n')]);
    const { output, marker, oversized } = guard(input, 20, 2);

    expect(records(output)).toEqual([[marker], ["m1"]]);
    expect(oversized).toEqual([{ bytes: 24, innerLineBreaks: 1, quoteNotClosed: false }]);
  });

  test("UTF-16 input without long rows passed unchanged", () => {
    const input = Buffer.from(`\ufeffid,"note"\r\nm1,"a ""b"" é"\n${"x".repeat(100)}\r`, "utf16le");

    expect(guard(input, 1 << 10, 7).output.equals(input)).toBe(true);
  });
});
