import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { actionFields } from "../../src/koala/fields.js";
import { buildConfigSchema } from "../../src/mappings/index.js";

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
