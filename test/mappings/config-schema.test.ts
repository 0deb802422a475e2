import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it, test } from "vitest";
import { actionFields } from "../../src/koala/fields.js";
import { buildConfigSchema } from "../../src/mappings/index.js";
import { describeEmailPatternProblem } from "../../src/pipeline/email-exclusion.js";

const schemaFile = new URL("../../schema/koala-replay.config.schema.json", import.meta.url);
const regenerate = "UPDATE_CONFIG_SCHEMA=1 npx vitest run test/mappings/config-schema.test.ts";

describe("config JSON Schema", () => {
  it("matches the field declarations", () => {
    const generated = `${JSON.stringify(buildConfigSchema(), null, 2)}\n`;
    if (process.env.UPDATE_CONFIG_SCHEMA === "1") writeFileSync(schemaFile, generated);
    const shipped = readFileSync(schemaFile, "utf8");
    expect(shipped, `schema/koala-replay.config.schema.json is out of date; run: ${regenerate}`).toBe(generated);
  });

  it("lists every field of both actions", () => {
    const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as {
      definitions: Record<string, { properties: { mapping: { properties: Record<string, unknown>; required: string[] } } }>;
    };
    for (const [action, fields] of Object.entries(actionFields)) {
      const mapping = schema.definitions[`${action}Mapping`]?.properties.mapping;
      expect(mapping, action).toBeDefined();
      for (const field of fields) {
        expect(Object.keys(mapping!.properties), `${action}.${field.name}`).toContain(field.name);
        expect(mapping!.required.includes(field.name), `${action}.${field.name} required`).toBe(field.required);
      }
    }
  });
});

describe("excludeEmails schema pattern", () => {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as { properties: { excludeEmails: { items: { pattern: string } } } };
  const source = schema.properties.excludeEmails.items.pattern;

  // Each row: a pattern, and whether the CLI accepts it.
  const table: Array<[string, boolean]> = [
    ["*@yourcompany.com", true],
    ["ceo@partner.example", true],
    ["j?n@example.com", true],
    ["*@münchen.de", true],
    ["*@ｙｏｕｒｃｏｍｐａｎｙ.com", true],
    ["a\\*b@example.com", true],
    ["a\\?b@example.com", true],
    ["a\\\\b@example.com", true],
    ["a\\\\@example.com", true],
    ["*@yourcompany.com.", true],
    ["", false],
    [" ", false],
    ["yourcompany.com", false],
    ["@yourcompany.com", false],
    ["jane@", false],
    ["a@b@c.com", false],
    ["jane @example.com", false],
    ["[ab]@example.com", false],
    ["a\\", false],
    ["a@example.com\\", false],
    ["a\\b@example.com", false],
    ["a\\@example.com", false],
    ["*@yourcompany.com\u200b", false],
    ["\u200b*@yourcompany.com", false],
    ["jane\u00ad@example.com", false],
    ["*@your\u2060company.com", false],
    ["*@yourcompany.com\ufeff", false],
    ["*@yourcompany.com\u{e0041}", false],
    ["*@yourcompany.com\ufe0f", false],
    ["*@your\u034fcompany.com", false],
    ["*@yourcompany.com\u0000", false],
    ["*\uff20yourcompany.com", false],
    ["\uff0a@yourcompany.com", false],
    ["a\uff3c*@example.com", false],
    ["a\u00a8@example.com", false],
  ];

  test.each(table)("%j: schema agrees with CLI", (pattern, valid) => {
    const schemaAccepts = new RegExp(source, "u").test(pattern);

    expect(describeEmailPatternProblem(pattern) === undefined, "CLI").toBe(valid);
    expect(schemaAccepts, "schema").toBe(valid);
  });

  test("pattern needs the u flag", () => {
    // Without it the \u{…} escapes would read as other characters, so a validator fails loudly.
    expect(() => new RegExp(source)).toThrow(SyntaxError);
  });
});
