import { describe, expect, test } from "vitest";
import { compileTrigger, compileTriggers, TriggerSyntaxError } from "../../src/triggers/index.js";

function syntaxErrorOf(trigger: string, dialect: "subscription" | "fql" = "subscription"): TriggerSyntaxError {
  try {
    compileTrigger(trigger, { dialect });
  } catch (error) {
    if (error instanceof TriggerSyntaxError) return error;
    throw error;
  }
  return expect.fail(`expected ${JSON.stringify(trigger)} to be rejected`);
}

describe("TriggerSyntaxError", () => {
  test("message shows line, column and caret", () => {
    const error = syntaxErrorOf('type = "track" and and event = "A"');
    expect(error.position).toEqual({ offset: 19, line: 1, column: 20 });
    expect(error.expected).toBe("a condition");
    expect(error.found).toBe("`and`");
    expect(error.message).toBe(
      [
        "Invalid trigger at line 1, column 20: expected a condition, found `and`.",
        '  type = "track" and and event = "A"',
        "                     ^",
        "`and` needs a condition on each side.",
      ].join("\n"),
    );
  });

  test("position on a later line", () => {
    const error = syntaxErrorOf('type = "track"\n  and properties.total => 5');
    expect(error.position).toEqual({ offset: 39, line: 2, column: 25 });
    expect(error.message).toContain("line 2, column 25: expected a value after `=`, found `>`");
    expect(error.message).toContain("\n    and properties.total => 5\n                          ^");
  });

  test("dangling operator points at the end", () => {
    const trigger = 'type = "track" and';
    const error = syntaxErrorOf(trigger);
    expect(error.position.offset).toBe(trigger.length);
    expect(error.found).toBe("the end of the trigger");
  });

  test("unterminated string", () => {
    const error = syntaxErrorOf('event = "Order');
    expect(error.expected).toContain('a closing "');
    expect(error.position.offset).toBe(14);
  });

  test.each([
    ['type == "track"', "Write `=` to test equality."],
    ['type = "track" && event = "A"', "Combine conditions with the words `and` and `or`."],
    ['type = "track" OR type = "page"', "Keywords are lowercase: write `or`."],
    ["properties.coupon exists", "Test whether a field is present with `!= null`."],
    ["type = track", 'quote it: "track"'],
    ["properties.total = 1e3", "without exponents"],
    ["properties.total > .5", "write 0.5"],
    ['type = "track")', "no matching `(`"],
    ['type = "track" event = "A"', "Join conditions with `and` or `or`."],
    ['anonymousId = "a"', "a mapping's trigger cannot test `anonymousId`. To select events by it, give the condition with --filter"],
    ['lowercase(event) = "a"', "Only contains() and match() exist"],
    ["length(properties.items) > 2", "Only contains() and match() exist"],
    ['!(type = "track")', 'type != "track"'],
    ['! contains(event, "A")', "Write `!` directly before what it negates"],
    ['properties.名前 = "x"', "escape any other character with a backslash"],
    ['event = "say \\"hi\\""', "quote the string with ' instead"],
    ['type = "a" or type = "b" and event = "c"', "add parentheses"],
  ])("%s explains the fix", (trigger, hint) => {
    const error = syntaxErrorOf(trigger);
    expect(error.hint).toContain(hint);
    expect(error.message).toContain(hint);
  });

  test("invalid glob points into the pattern", () => {
    const error = syntaxErrorOf('match(event, "ab[c")');
    expect(error.position.offset).toBe(16);
    expect(error.found).toBe("a `[` without a closing `]`");
  });

  test("negated value in fql", () => {
    const error = syntaxErrorOf('!type = "track"', "fql");
    expect(error.position.offset).toBe(0);
    expect(error.hint).toContain('write !(type = "track") or type != "track"');
  });

  test("negated field suggests both rewrites", () => {
    const error = syntaxErrorOf('!type = "track"');

    expect(error.position.offset).toBe(0);
    expect(error.found).toBe("`!` before `type`");
    expect(error.hint).toBe('`!` applies to `type` alone here. To negate the comparison, write !(type = "track") or type != "track".');
  });

  test("negated ordering suggests parentheses only", () => {
    const error = syntaxErrorOf("!properties.total > 3");

    expect(error.hint).toContain("write !(properties.total > 3).");
    expect(error.hint).not.toContain("<=");
  });

  test.each([
    ['evnt = "Order Completed"', "event"],
    ['Type = "track"', "type"],
    ["propeties.total > 0", "properties"],
    ['context.traits.email != null and trait.plan = "pro"', "traits"],
  ])("misspelt field %s suggests the field", (trigger, field) => {
    const error = syntaxErrorOf(trigger);

    expect(error.hint).toBe(`Did you mean ${field}?`);
    expect(error.message).not.toContain("--filter");
  });

  test.each([
    ["event = Order Completed", '"Order Completed"'],
    ['type = "track" and event = Order Completed', '"Order Completed"'],
    ["event = Checkout Step 2", '"Checkout Step 2"'],
    ['event = Order Completed and type = "track"', '"Order Completed"'],
  ])("unquoted words %s suggest quotes", (trigger, quoted) => {
    const error = syntaxErrorOf(trigger);

    expect(error.hint).toBe(`To compare with the text, quote it: ${quoted}.`);
  });

  test("unterminated string names a column only", () => {
    const error = syntaxErrorOf('event = "Order Completed" and properties.name = "abc');

    expect(error.expected).toBe('a closing " for the string that starts at column 49');
    expect(error.message).not.toContain("offset");
  });

  test("unterminated string on a later line", () => {
    const error = syntaxErrorOf('type = "track"\n  and event = "Order');

    expect(error.expected).toBe('a closing " for the string that starts at line 2, column 15');
  });

  test("unclosed parenthesis names a column", () => {
    const error = syntaxErrorOf('type = "track" and (event = "a"');

    expect(error.expected).toBe("`)` to close the `(` at column 20");
    expect(error.message).not.toContain("offset");
  });
});

describe("compileTrigger arguments", () => {
  test("unknown dialect", () => {
    expect(() => compileTrigger('type = "track"', { dialect: "FQL" as "fql" })).toThrow('Invalid trigger dialect "FQL"');
  });

  test("non-string trigger", () => {
    expect(() => compileTrigger(42 as unknown as string)).toThrow("A trigger must be a string, got number.");
  });
});

describe("compileTriggers", () => {
  test("collects every problem", () => {
    const result = compileTriggers(['type = "track"', "type = ", 'event = "A" and', 'type = "identify"']);
    if (result.ok) return expect.fail("expected problems");
    expect(result.problems.map((problem) => problem.index)).toEqual([1, 2]);
    expect(result.problems.map((problem) => problem.source)).toEqual(["type = ", 'event = "A" and']);
    expect(result.problems[0]?.error).toBeInstanceOf(TriggerSyntaxError);
  });

  test("returns triggers in order when all compile", () => {
    const result = compileTriggers(['type = "track"', 'type = "identify"']);
    if (!result.ok) return expect.fail(result.problems.map((problem) => problem.error.message).join("\n"));
    expect(result.triggers.map((trigger) => trigger.source)).toEqual(['type = "track"', 'type = "identify"']);
  });
});

describe("typeof() type names", () => {
  test.each([
    ['typeof(userId) = "undefined"', 17],
    ['typeof(userId) != "str"', 18],
    ['"integer" = typeof(properties.total)', 0],
    ['typeof(userId) in ["string", "Array"]', 29],
  ])("%s is rejected", (trigger, offset) => {
    const error = syntaxErrorOf(trigger, "fql");

    expect(error.position.offset).toBe(offset);
    expect(error.expected).toBe('a type that typeof() returns: "string", "number", "bool", "list", "object" or "null"');
  });

  test("missing field hint", () => {
    expect(syntaxErrorOf('typeof(userId) = "undefined"', "fql").message).toContain('A missing field is "null".');
  });
});
