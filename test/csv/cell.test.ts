import { describe, expect, it } from "vitest";
import {
  decodeValueCell,
  detectSingleQuotedCells,
  parseDecimal,
  unwrapSingleQuotedCells,
} from "../../src/inputs/csv/cell.js";

describe("decodeValueCell", () => {
  it("empty cell is absent", () => {
    expect(decodeValueCell("", false)).toBeUndefined();
    expect(decodeValueCell("", true)).toBeUndefined();
  });

  it("JSON object cell becomes an object", () => {
    expect(decodeValueCell('{"a":1,"b":[true,null]}', false)).toEqual({ a: 1, b: [true, null] });
  });

  it("JSON array cell becomes an array", () => {
    expect(decodeValueCell('["red","blue"]', false)).toEqual(["red", "blue"]);
    expect(decodeValueCell("[]", false)).toEqual([]);
  });

  it("invalid JSON-looking cell stays text", () => {
    expect(decodeValueCell("[time] hour_of_day", false)).toBe("[time] hour_of_day");
    expect(decodeValueCell("{not json}", false)).toBe("{not json}");
  });

  it("JSON scalars stay text", () => {
    expect(decodeValueCell("true", false)).toBe("true");
    expect(decodeValueCell("null", false)).toBe("null");
    expect(decodeValueCell('"quoted"', false)).toBe('"quoted"');
  });

  it("numbers stay text by default", () => {
    expect(decodeValueCell("42", false)).toBe("42");
    expect(decodeValueCell("106.98", false)).toBe("106.98");
  });

  it("numbers convert with convertNumbers", () => {
    expect(decodeValueCell("42", true)).toBe(42);
    expect(decodeValueCell("-106.98", true)).toBe(-106.98);
    expect(decodeValueCell("1.5e3", true)).toBe(1500);
  });

  it("spaces are kept", () => {
    expect(decodeValueCell("website  ", true)).toBe("website  ");
    expect(decodeValueCell(" 42", true)).toBe(" 42");
  });
});

describe("parseDecimal", () => {
  it.each([
    ["0", 0],
    ["-0.5", -0.5],
    ["9007199254740991", 9007199254740991],
    ["3.14", 3.14],
    ["0.0e5", 0],
    ["1e-300", 1e-300],
  ])("%s is a number", (text, expected) => {
    expect(parseDecimal(text)).toBe(expected);
  });

  it.each(["02134", "9007199254740993", "12345678901234567890", "1,000", "$48391.00", "0x1f", "1e999", "1e-999", "-0.1e-400", "", "-", "1."])(
    "%j stays text",
    (text) => {
      expect(parseDecimal(text)).toBeUndefined();
    },
  );
});

describe("single-quoted cells", () => {
  it("detected when every non-empty cell is wrapped", () => {
    expect(detectSingleQuotedCells(["'abc'", "''", "", "'1'"])).toBe(true);
  });

  it("not detected when one cell is bare", () => {
    expect(detectSingleQuotedCells(["'abc'", "def"])).toBe(false);
  });

  it("not detected on an all-empty row", () => {
    expect(detectSingleQuotedCells(["", ""])).toBe(false);
  });

  it("unwrapped in place", () => {
    const cells = ["'abc'", "''", "'[1]'", "bare", "'"];
    unwrapSingleQuotedCells(cells);
    expect(cells).toEqual(["abc", "", "[1]", "bare", "'"]);
  });
});
