import { describe, expect, it } from "vitest";
import { compileMapping, MappingRuntimeError, MappingValidationError, type MappingProblem } from "../../src/mappings/index.js";
import { parsePath } from "../../src/mappings/path.js";
import { findStrayOpeningBraces } from "../../src/mappings/template-text.js";

function problemsOf(mapping: unknown): MappingProblem[] {
  try {
    compileMapping(mapping);
  } catch (error) {
    if (error instanceof MappingValidationError) return [...error.problems];
    throw error;
  }
  throw new Error("the mapping compiled although it is invalid");
}

function runtimeErrorOf(mapping: unknown, event: Record<string, unknown>): MappingRuntimeError {
  const compiled = compileMapping(mapping);
  try {
    compiled.apply(event);
  } catch (error) {
    if (error instanceof MappingRuntimeError) return error;
    throw error;
  }
  throw new Error("the mapping applied although it should fail");
}

describe("parsePath", () => {
  it.each([
    ["$.a.b", ["a", "b"]],
    ["a.b", ["a", "b"]],
    ["$.a[0]", ["a", "0"]],
    ["$.a.0.b", ["a", "0", "b"]],
    ["$['a b']", ["a b"]],
    ['$.a["b.c"]', ["a", "b.c"]],
    ["$.a[b]", ["a[b]"]],
    ["$.a[0]b", ["a", "0", "b"]],
    ["$.a.", ["a"]],
    [".a.b", ["a", "b"]],
    [".[0]", ["0"]],
    ["$", []],
    ["", []],
  ])("%s", (path, keys) => {
    const parsed = parsePath(path);
    expect(parsed.ok && parsed.segments.map((segment) => segment.key)).toEqual(keys);
  });

  it.each(["$..a", "..a", "$.a..b", "$.a['b", "$.a[1x]"])("rejects %s", (path) => {
    expect(parsePath(path).ok).toBe(false);
  });

  // The reason never quotes the path, so that invalid paths computed from events count under one reason.
  it.each([
    ["$..a", "recursive descent (..) is not supported, so name each key, as in $.a.b", 2],
    ["$.a..b", "empty key between two dots", 4],
    ["a..b", "empty key between two dots", 2],
    ["$.a['b", "the quoted key is not closed with ']", 3],
    ["$['b", "the quoted key is not closed with ']", 1],
    ["$.a[1x]", "the index must be digits followed by ]", 3],
  ])("reason and position of %s", (path, reason, position) => {
    expect(parsePath(path)).toEqual({ ok: false, reason, position });
  });
});

describe("findStrayOpeningBraces", () => {
  it.each([
    ["Hi {{traits.name}}", []],
    ["{{{a}}} and {{b}}", []],
    ["Hi {{traits.name", [3]],
    ["{{a}} {{b", [6]],
    ["{{{a}} {{b}}", []],
    ["{{}} {{a}b}}", [0, 5]],
    ["{{x {{{y}}} {{z", [0, 12]],
  ])("%s", (template, positions) => {
    expect(findStrayOpeningBraces(template)).toEqual(positions);
  });
});

describe("compileMapping safety", () => {
  it("never modifies the mapping", () => {
    const mapping = {
      a: { "@replace": { pattern: "x", value: { "@path": "$.s" } } },
      b: { "@merge": { direction: "left", objects: [{ k: 1 }, { "@path": "$.o" }] } },
      c: { "@arrayPath": ["$.list", { id: { "@path": "$.id" } }] },
    };
    const copy = structuredClone(mapping);
    compileMapping(mapping).apply({ s: "xyx", o: { k: 2 }, list: [{ id: 1 }] });
    expect(mapping).toStrictEqual(copy);
  });

  it("reads no prototype members", () => {
    const mapping = {
      proto: { "@path": "$.__proto__" },
      constructor: { "@path": "$.constructor" },
      length: { "@path": "$.list.length" },
      method: { "@path": "$.text.toString" },
      template: { "@template": "{{constructor}}{{list.length}}" },
    };
    expect(compileMapping(mapping).apply({ list: [1], text: "x" })).toStrictEqual({ template: "" });
  });

  it("keeps __proto__ keys as data", () => {
    const event = JSON.parse('{"o": {"__proto__": {"polluted": true}, "k": 1}}') as Record<string, unknown>;
    const mapping = JSON.parse('{"__proto__": {"@path": "$.o"}, "merged": {"@merge": {"direction": "right", "objects": [{"@path": "$.o"}]}}, "flat": {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}}}') as unknown;
    const output = compileMapping(mapping).apply(event);
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.keys(output)).toEqual(["__proto__", "merged", "flat"]);
    expect(Object.getPrototypeOf(output.merged)).toBe(Object.prototype);
    expect(Object.keys(output.flat as object)).toEqual(["__proto__.polluted", "k"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("does not scan inserted values for placeholders", () => {
    const mapping = { double: { "@template": "{{a}}" }, triple: { "@template": "{{{a}}}" } };
    expect(compileMapping(mapping).apply({ a: "{{b}}", b: "secret" })).toStrictEqual({ double: "{{b}}", triple: "{{b}}" });
  });

  it("renders objects with a toString key safely", () => {
    const mapping = { v: { "@template": "{{o}}|{{list}}" }, blank: { "@if": { blank: { "@path": "$.list" }, then: "no", else: "yes" } } };
    const event = { o: { toString: "x" }, list: [{ toString: "y" }, null] };
    expect(compileMapping(mapping).apply(event)).toStrictEqual({ v: "[object Object]|[object Object],", blank: "no" });
  });

  it("returns fresh objects per event", () => {
    const compiled = compileMapping({ nested: { k: 1 }, list: [1] });
    const first = compiled.apply({});
    (first.nested as Record<string, unknown>).k = 2;
    expect(compiled.apply({})).toStrictEqual({ nested: { k: 1 }, list: [1] });
  });
});

describe("compileMapping validation", () => {
  it("lists every problem with pointer, expected and found", () => {
    const problems = problemsOf({
      a: { "@path": 1 },
      b: { "@if": { exists: { "@path": "$.x" }, thne: 1 } },
      c: [{ "@oops": 1 }],
      d: { "@path": "$.x", other: 1 },
      e: { "@json": { mode: "yaml", value: 1 } },
      "a/b": { "@Path": "$.x" },
    });
    expect(problems.map((problem) => problem.pointer)).toEqual(["/a/@path", "/b/@if/thne", "/c/0/@oops", "/d", "/e/@json/mode", "/a~1b/@Path"]);
    expect(problems[0]).toMatchObject({ expected: "a string or a directive", found: "number 1" });
    expect(problems[5]!.message).toContain('Did you mean "@path"?');
  });

  it("rejects a liquid template with a disabled tag", () => {
    const problems = problemsOf({ v: { "@liquid": "{% for x in list %}{{ x }}{% endfor %}" } });
    expect(problems[0]!.pointer).toBe("/v/@liquid");
    expect(problems[0]!.message).toContain('"for" is disabled');
  });

  it("rejects a root that is not an object", () => {
    expect(problemsOf([1])[0]!.pointer).toBe("");
  });
});

describe("compileMapping at run time", () => {
  it("fails an event whose computed path is not a string", () => {
    const error = runtimeErrorOf({ v: { "@path": { "@path": "$.which" } } }, { which: 5 });
    expect(error.pointer).toBe("/v/@path");
    expect(error.reason).toContain("found number 5");
  });

  it("fails an event using a disabled liquid filter", () => {
    const error = runtimeErrorOf({ v: { "@liquid": "{{ list | sort }}" } }, { list: [2, 1] });
    expect(error.reason).toContain('"sort" is disabled');
  });

  it("fails a root producing a string", () => {
    expect(runtimeErrorOf({ "@path": "$.s" }, { s: "x" }).pointer).toBe("");
  });

  it("keeps the event unmodified by liquid tags", () => {
    const event = { count: "x", properties: { name: "Ada" } };
    const compiled = compileMapping({ v: { "@liquid": "{% increment count %}{% assign n = properties.name %}{{ n }}" } });
    expect(compiled.apply(event)).toStrictEqual({ v: "0Ada" });
    expect(event).toStrictEqual({ count: "x", properties: { name: "Ada" } });
  });

  it("renders liquid dates in UTC", () => {
    const compiled = compileMapping({ v: { "@liquid": "{{ timestamp | date: '%H:%M' }}" } });
    expect(compiled.apply({ timestamp: "2024-01-31T23:30:00Z" })).toStrictEqual({ v: "23:30" });
  });

  it("applies the root directive of exported mappings", () => {
    const mapping = {
      __segment_internal_directive: { "@transform": { apply: { properties: { "@flatten": { value: { "@path": "$.properties" }, separator: "_" } } } } },
      flat: { "@path": "$.properties" },
    };
    expect(compileMapping(mapping).apply({ properties: { a: { b: 1 } } })).toStrictEqual({ flat: { a_b: 1 } });
  });

  it("treats a missing root result as an empty payload", () => {
    expect(compileMapping({ "@if": { exists: { "@path": "$.x" }, then: { a: 1 } } }).apply({})).toStrictEqual({});
  });

  it("names the root result that is no object last", () => {
    const compiled = compileMapping({ "@path": "$.properties" });
    expect(() => compiled.apply({ properties: "flat" })).toThrow('a mapping must produce an object, found string "flat"');
  });
});

describe("deeply nested values", () => {
  function nested(depth: number, leaf: unknown): unknown {
    let value = leaf;
    for (let level = 0; level < depth; level++) value = { a: value };
    return value;
  }

  it("fails one event nested too deeply", () => {
    const compiled = compileMapping({ flat: { "@flatten": { value: { "@path": "$.deep" }, separator: "." } } });
    expect(() => compiled.apply({ deep: nested(100_000, 1) })).toThrow(MappingRuntimeError);
    expect(compiled.apply({ deep: nested(3, 1) })).toStrictEqual({ flat: { "a.a.a": 1 } });
  });

  it("rejects a mapping nested too deeply", () => {
    const problems = problemsOf(nested(100_000, { "@path": "$.x" }));
    expect(problems[0]!.message).toContain("nested too deeply");
  });
});

describe("paths through strings", () => {
  it("reach no characters", () => {
    expect(compileMapping({ first: { "@path": "$.name[0]" } }).apply({ name: "Ada" })).toStrictEqual({});
  });
});
