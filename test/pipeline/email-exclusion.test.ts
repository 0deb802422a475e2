import { describe, expect, test } from "vitest";
import type { KoalaEntry } from "../../src/delivery/entry.js";
import type { PersonFields } from "../../src/delivery/entry.js";
import { createEmailExclusion, describeEmailPatternProblem, EmailExclusion } from "../../src/pipeline/email-exclusion.js";

function entryFor(person: Omit<PersonFields, "traits">, messageId = "m-1"): KoalaEntry {
  const fields: PersonFields = { ...person, traits: {} };
  return {
    kind: "events",
    person: fields,
    personKey: JSON.stringify(fields),
    entryJson: "{}",
    messageId,
    mappingName: "Track Event",
    origin: { input: "events.jsonl", line: 1 },
    eventJson: "{}",
  };
}

describe("email pattern check", () => {
  test.each([
    ["*@yourcompany.com"],
    ["ceo@partner.example"],
    ["*@*.yourcompany.com"],
    ["j?n@example.com"],
    ["*@*"],
  ])("%s is valid", (pattern) => {
    expect(describeEmailPatternProblem(pattern)).toBeUndefined();
  });

  test.each([
    ["", "the pattern is empty"],
    ["   ", "the pattern is empty"],
    ["yourcompany.com", "write *@yourcompany.com"],
    ["*.yourcompany.com", "write *@yourcompany.com"],
    ["@yourcompany.com", "write *@yourcompany.com"],
    ["jane@", "nothing after \"@\""],
    ["a@b@c.com", "more than one \"@\""],
    ["jane @example.com", "whitespace"],
    ["jane\u00ad@example.com", "invisible character (U+00AD at character 5)"],
    ["[ab]@example.com", "only the wildcards * (any characters) and ? (one character)"],
    ["a\\*@example.com", "only the wildcards"],
  ])("%j is rejected", (pattern, reason) => {
    expect(describeEmailPatternProblem(pattern)).toContain(reason);
  });
});

describe("EmailExclusion matching", () => {
  const exclusion = new EmailExclusion(["*@YourCompany.com", "ceo@partner.example", "j?n@example.com"]);

  test.each([
    ["anna@yourcompany.com", "*@YourCompany.com"],
    ["ANNA@YOURCOMPANY.COM", "*@YourCompany.com"],
    ["CEO@Partner.Example", "ceo@partner.example"],
    ["  ceo@partner.example ", "ceo@partner.example"],
    ["jan@example.com", "j?n@example.com"],
  ])("%j matches %s", (email, pattern) => {
    expect(exclusion.matchingPattern(email)).toBe(pattern);
  });

  test.each([["anna@yourcompany.com.evil.example"], ["cfo@partner.example"], ["joan@example.com"], ["anna@sub.yourcompany.com"]])("%j does not match", (email) => {
    expect(exclusion.matchingPattern(email)).toBeUndefined();
  });

  test("entry without email is kept", () => {
    const profileOnly = entryFor({ profile_id: "p-1" });
    const split = exclusion.split([profileOnly]);

    expect(split.sendable).toEqual([profileOnly]);
    expect(split.excluded).toEqual([]);
  });

  test("split keeps order and names pattern", () => {
    const first = entryFor({ email: "a@example.org" }, "m-1");
    const staff = entryFor({ email: "anna@yourcompany.com", profile_id: "p-2" }, "m-2");
    const last = entryFor({ email: "b@example.org" }, "m-3");
    const split = exclusion.split([first, staff, last]);

    expect(split.sendable).toEqual([first, last]);
    expect(split.excluded).toEqual([{ entry: staff, pattern: "*@YourCompany.com" }]);
  });

  test("split without matches returns input list", () => {
    const entries = [entryFor({ email: "a@example.org" })];

    expect(exclusion.split(entries).sendable).toBe(entries);
  });
});

describe("EmailExclusion patterns", () => {
  test("canonical patterns ignore order, case and repeats", () => {
    const first = new EmailExclusion(["*@b.example", "A@a.example"]);
    const second = new EmailExclusion(["a@a.example", "*@B.example", "*@b.example"]);

    expect(first.canonicalPatterns()).toEqual(second.canonicalPatterns());
  });

  test("empty list makes no exclusion", () => {
    expect(createEmailExclusion([])).toBeUndefined();
  });

  test("invalid pattern throws", () => {
    expect(() => new EmailExclusion(["yourcompany.com"])).toThrow('invalid email pattern "yourcompany.com"');
  });
});
