import { describe, expect, it } from "vitest";
import { detectFormat, formatNeedsMoreBytes } from "../../src/inputs/detect-format.js";

const bytes = (text: string): Buffer => Buffer.from(text);

describe("detectFormat", () => {
  it("array is json", () => {
    expect(detectFormat(bytes('[{"type":"track"}]'))).toBe("json");
    expect(detectFormat(bytes('  \n[\n  {"type":"track"}\n]'))).toBe("json");
  });

  it("complete object per line is jsonl", () => {
    expect(detectFormat(bytes('{"type":"track"}\n{"type":"identify"}\n'))).toBe("jsonl");
  });

  it("pretty-printed object is json", () => {
    expect(detectFormat(bytes('{\n  "batch": [\n    {"type":"track"}\n  ]\n}\n'))).toBe("json");
  });

  it("compact batch body is json", () => {
    expect(detectFormat(bytes('{"batch":[{"type":"track"}],"sentAt":"2024-05-01T10:00:00.000Z"}\n'))).toBe("json");
    expect(detectFormat(bytes('{"writeKey":"k","sentAt":"x","batch":[{"type":"track"}]}'))).toBe("json");
    expect(detectFormat(bytes('{"batch":[{"type":"track"}]}\n{"batch":[{"type":"identify"}]}\n'))).toBe("json");
  });

  it("batch body cut off in its first line is json", () => {
    expect(detectFormat(bytes('{"sentAt":"x","batch":[{"type":"track","properties":{"long":"'))).toBe("json");
  });

  it("batch array opened on the first line is json", () => {
    expect(detectFormat(bytes('{"sentAt":"x","batch":[\n{"type":"track"},\n{"type":"identify"}\n]}\n'))).toBe("json");
  });

  it("batch key elsewhere is jsonl", () => {
    expect(detectFormat(bytes('{"type":"track","properties":{"batch":[1]}}\n{"type":"identify"}\n'))).toBe("jsonl");
    expect(detectFormat(bytes('{"type":"track","batch":"b-1"}\n'))).toBe("jsonl");
  });

  it("first line cut off is jsonl", () => {
    expect(detectFormat(bytes('{"type":"track","properties":{"long":"'))).toBe("jsonl");
  });

  it("corrupt first line of jsonl is jsonl", () => {
    expect(detectFormat(bytes('{"type":"tr\n{"type":"identify"}\n'))).toBe("jsonl");
  });

  it("jsonl after a first line that is no object is jsonl", () => {
    expect(detectFormat(bytes('null\n{"type":"track"}\n'))).toBe("jsonl");
    expect(detectFormat(bytes('42\n{"type":"track"}\n'))).toBe("jsonl");
    expect(detectFormat(bytes('"a string"\n{"type":"track"}\n'))).toBe("jsonl");
    // The end of an event whose start was cut off, as a byte range of an archive begins.
    expect(detectFormat(bytes('rack","messageId":"m-1"}\n\n{"type":"track"}\n'))).toBe("jsonl");
  });

  it("json scalar alone is jsonl", () => {
    expect(detectFormat(bytes("null\n"))).toBe("jsonl");
    expect(detectFormat(bytes("-1.5e3"))).toBe("jsonl");
  });

  it("header with an object-like row is csv", () => {
    expect(detectFormat(bytes('"email"\nada@example.com\n'))).toBe("csv");
    expect(detectFormat(bytes("properties,type\n{},track\n"))).toBe("csv");
    expect(detectFormat(bytes('type\n{"not json\n'))).toBe("csv");
  });

  it("byte order mark is skipped", () => {
    expect(detectFormat(bytes('\ufeff{"type":"track"}\n'))).toBe("jsonl");
    expect(detectFormat(bytes("\ufeffid,anonymous_id\n"))).toBe("csv");
  });

  it("header row is csv", () => {
    expect(detectFormat(bytes("id,anonymous_id,user_id\n1,a,b\n"))).toBe("csv");
    expect(detectFormat(bytes('"event_name","event_type"\n'))).toBe("csv");
    expect(detectFormat(bytes("ANONYMOUS_ID,USER_ID"))).toBe("csv");
  });

  it("empty input is jsonl", () => {
    expect(detectFormat(bytes(""))).toBe("jsonl");
    expect(detectFormat(bytes(" \n\t"))).toBe("jsonl");
  });
});

describe("formatNeedsMoreBytes", () => {
  const inputs = [
    '[{"type":"track"}]',
    '{"type":"track"}\n{"type":"identify"}\n',
    '{\n  "batch": [\n    {"type":"track"}\n  ]\n}\n',
    '{"sentAt":"x","batch":[{"type":"track"}]}\n',
    '{"type":"track","batch":"b-1"}\n',
    '{"type":"tr\n{"type":"identify"}\n',
    'null\n{"type":"track"}\n',
    '"a string"\n{"type":"track"}\n',
    '"email"\nada@example.com\n',
    'type\n{"not json\n',
    "\ufeffid,anonymous_id\n1,a\n",
  ];

  // Every prefix that needs no more bytes must be detected as the whole input is.
  it.each(inputs)("prefixes of %j decide as the whole", (text) => {
    const whole = bytes(text);
    const expected = detectFormat(whole);
    for (let length = 1; length <= whole.length; length += 1) {
      const prefix = whole.subarray(0, length);
      if (!formatNeedsMoreBytes(prefix)) {
        expect(detectFormat(prefix), `first ${length} bytes`).toBe(expected);
      }
    }
  });

  it("decided inputs need no more", () => {
    expect(formatNeedsMoreBytes(bytes("["))).toBe(false);
    expect(formatNeedsMoreBytes(bytes('{"batch":['))).toBe(false);
    expect(formatNeedsMoreBytes(bytes('{"type":"track"}\n'))).toBe(false);
    expect(formatNeedsMoreBytes(bytes("{\n  "))).toBe(true);
    expect(formatNeedsMoreBytes(bytes('{\n  "type"'))).toBe(false);
    expect(formatNeedsMoreBytes(bytes("type,event\ntrack"))).toBe(false);
  });

  it("open starts need more", () => {
    expect(formatNeedsMoreBytes(bytes(""))).toBe(true);
    expect(formatNeedsMoreBytes(bytes('{"bat'))).toBe(true);
    expect(formatNeedsMoreBytes(bytes('"export"\n'))).toBe(true);
    expect(formatNeedsMoreBytes(bytes('"export"\n{"type":"tr'))).toBe(true);
    expect(formatNeedsMoreBytes(bytes("type,ev"))).toBe(true);
  });
});
