import { describe, expect, test } from "vitest";
import { JsonSequenceSplitter, type JsonSequencePart } from "../../src/inputs/json-sequence.js";

function split(input: string | Buffer, pieceBytes: number, maxDocumentBytes = 1 << 20): JsonSequencePart[] {
  const bytes = typeof input === "string" ? Buffer.from(input) : input;
  const splitter = new JsonSequenceSplitter(maxDocumentBytes);
  const parts: JsonSequencePart[] = [];
  for (let start = 0; start < bytes.length; start += pieceBytes) {
    parts.push(...splitter.push(bytes.subarray(start, start + pieceBytes)));
  }
  parts.push(...splitter.end());
  return parts;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

// Strings with escaped quotes, backslashes and brackets, which must not end or open anything.
const TRICKY = { type: "track", event: 'say "hi" \\ {[', properties: { nested: { list: [1, { deeper: "]}" }] } }, note: "é 😀" };
const DOCUMENTS = [pretty({ type: "identify", userId: "u1" }), pretty(TRICKY), '[\n  {"a": 1},\n  {"b": 2}\n]', pretty({ batch: [{ c: 3 }] })];
const SEQUENCE = DOCUMENTS.join("\n");
/** Line on which each document of SEQUENCE starts. */
const FIRST_LINES = DOCUMENTS.map((_document, index) => 1 + DOCUMENTS.slice(0, index).reduce((lines, document) => lines + document.split("\n").length, 0));

describe("JsonSequenceSplitter", () => {
  test.each([1, 2, 3, 7, 64, 1 << 16])("same documents in pieces of %i bytes", (pieceBytes) => {
    const parts = split(SEQUENCE, pieceBytes);

    expect(parts.map((part) => part.kind)).toEqual(["document", "document", "document", "document"]);
    const documents = parts.map((part) => (part.kind === "document" ? JSON.parse(part.text) : undefined));
    expect(documents[1]).toEqual(TRICKY);
    expect(documents[3]).toEqual({ batch: [{ c: 3 }] });
    expect(parts.map((part) => part.firstLine)).toEqual(FIRST_LINES);
    expect(FIRST_LINES[1]).toBe(5);
  });

  test.each([1, 2, 4])("byte order mark skipped in pieces of %i bytes", (pieceBytes) => {
    const parts = split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}')]), pieceBytes);

    expect(parts).toEqual([
      { kind: "document", text: '{"a":1}', firstLine: 1 },
      { kind: "document", text: '{"b":2}', firstLine: 2 },
    ]);
  });

  test("text between documents is its own part", () => {
    const parts = split('{"a":1},\n42 "text" {"b":2}', 5);

    expect(parts).toEqual([
      { kind: "document", text: '{"a":1}', firstLine: 1 },
      { kind: "document", text: ",", firstLine: 1 },
      { kind: "document", text: "42", firstLine: 2 },
      { kind: "document", text: '"text"', firstLine: 2 },
      { kind: "document", text: '{"b":2}', firstLine: 2 },
    ]);
  });

  test("new document ends a cut-short one", () => {
    const text = '{\n  "type": "track",\n  "properties": {\n    "a": 1\n{\n  "type": "identify"\n}\n';
    const parts = split(text, 3);

    expect(parts).toEqual([
      { kind: "not-closed", firstLine: 1, lastLine: 4, ending: { kind: "new-document", line: 5 } },
      { kind: "document", text: '{\n  "type": "identify"\n}', firstLine: 5 },
    ]);
  });

  test.each([
    ["after a comma in an object", '{\n  "a": 1,\n{\n  "b": 2\n}', 3],
    ["after a string in an array", '[\n  "a"\n[\n  1\n]', 3],
  ])("new document %s", (_where, text, newLine) => {
    const parts = split(text, 4);

    expect(parts[0]).toEqual({ kind: "not-closed", firstLine: 1, lastLine: newLine - 1, ending: { kind: "new-document", line: newLine } });
    expect(parts[1]?.kind).toBe("document");
  });

  test.each([
    ["array elements on their own lines", '[\n{"a": 1},\n{"b": 2}\n]'],
    ["an object value on the next line", '{\n  "a":\n{\n  "b": 2\n}\n}'],
    ["a bracket after a value on the same line", '{"a": 1 {"b": 2}}'],
  ])("one document: %s", (_case, text) => {
    expect(split(text, 3)).toEqual([{ kind: "document", text, firstLine: 1 }]);
  });

  test.each([
    ["an object", '{"a": 1}\n{\n  "b": [1,\n'],
    ["a string", '{"a": 1}\n"never closed\n'],
  ])("end of input inside %s", (_case, text) => {
    const parts = split(text, 2);

    expect(parts[0]).toEqual({ kind: "document", text: '{"a": 1}', firstLine: 1 });
    expect(parts[1]).toMatchObject({ kind: "not-closed", firstLine: 2, ending: { kind: "end-of-input" } });
  });

  test("document over the limit is skipped whole", () => {
    const large = pretty({ padding: "x".repeat(500) });
    const text = `{"a": 1}\n${large}\n{"b": 2}\n`;
    const parts = split(text, 16, 100);

    expect(parts).toEqual([
      { kind: "document", text: '{"a": 1}', firstLine: 1 },
      { kind: "too-large", firstLine: 2, lastLine: 4, bytes: Buffer.byteLength(large), ending: { kind: "closed" } },
      { kind: "document", text: '{"b": 2}', firstLine: 5 },
    ]);
  });

  test("cut-short document over the limit", () => {
    const text = `{\n  "padding": "${"x".repeat(200)}",\n{\n  "b": 2\n}\n`;
    const parts = split(text, 16, 100);

    expect(parts[0]).toMatchObject({ kind: "too-large", firstLine: 1, lastLine: 2, ending: { kind: "new-document", line: 3 } });
    expect(parts[1]).toEqual({ kind: "document", text: '{\n  "b": 2\n}', firstLine: 3 });
  });

  test("line breaks in strings counted", () => {
    const parts = split('{"a": "x\ny"}\n{"b": 1}', 4);

    expect(parts.map((part) => part.firstLine)).toEqual([1, 3]);
  });
});
