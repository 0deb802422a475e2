import { createReadStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { readCsvRecords, type CsvOptions } from "../../src/inputs/csv/index.js";
import type { InputItem, InputProblem, SegmentEvent } from "../../src/inputs/record.js";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/csv/", import.meta.url));

/** Reads CSV text (or bytes) given in chunks, so tests can cut the input where they like. */
export async function readText(
  chunks: string | Buffer | readonly (string | Buffer)[],
  options: Partial<CsvOptions> = {},
): Promise<InputItem[]> {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  const source = Readable.from(list.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));
  return collect(readCsvRecords(source, { input: "test.csv", convertNumbers: false, ...options }));
}

export async function readFixture(relativePath: string, options: Partial<CsvOptions> = {}): Promise<InputItem[]> {
  const source = createReadStream(FIXTURES + relativePath);
  return collect(readCsvRecords(source, { input: relativePath, convertNumbers: false, ...options }));
}

async function collect(items: AsyncIterable<InputItem>): Promise<InputItem[]> {
  const collected: InputItem[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

export function eventsOf(items: readonly InputItem[]): SegmentEvent[] {
  return items.flatMap((item) => (item.kind === "record" ? [item.event] : []));
}

export function problemsOf(items: readonly InputItem[]): InputProblem[] {
  return items.flatMap((item) => (item.kind === "problem" ? [item] : []));
}

export function linesOf(items: readonly InputItem[]): number[] {
  return items.map((item) => item.origin.line);
}

/** Reads a CSV expected to hold exactly one valid row and returns its event. */
export async function readOneEvent(text: string, options: Partial<CsvOptions> = {}): Promise<SegmentEvent> {
  const items = await readText(text, options);
  const problems = problemsOf(items);
  if (problems.length > 0) throw new Error(`unexpected problems: ${JSON.stringify(problems)}`);
  const events = eventsOf(items);
  if (events.length !== 1) throw new Error(`expected one event, got ${events.length}`);
  return events[0]!;
}
