import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// check lists every problem of a config in one run, and its messages name where the fix goes.

/** Writes `lines` as koala-replay.config.json in a new folder, and returns the folder. */
function writeConfigLines(lines: readonly string[]): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-problems-"));
  writeFileSync(join(directory, "koala-replay.config.json"), `${lines.join("\n")}\n`);
  return directory;
}

const FIELDS = ['        "event": { "@path": "$.event" },', '        "sent_at": { "@path": "$.timestamp" },', '        "message_id": { "@path": "$.messageId" }'];

describe("check with several problems", () => {
  test("a field typo shows beside an unknown action", async () => {
    const directory = writeConfigLines([
      "{",
      '  "mappings": [',
      "    {",
      '      "name": "Track",',
      '      "trigger": "type = \\"track\\"",',
      '      "action": "track",',
      '      "mapping": {',
      '        "emial": { "@path": "$.context.traits.email" },',
      ...FIELDS,
      "      }",
      "    }",
      "  ]",
      "}",
    ]);

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("(2 problems)");
    expect(text).toContain('unknown action "track"');
    expect(text).toContain('/mappings/0/mapping/emial (line 8, column 9):');
    expect(text).toContain('unknown key "emial" in the fields of any action. Did you mean "email"?');
  });

  test("field of another action not reported", async () => {
    const directory = writeConfigLines([
      "{",
      '  "mappings": [',
      "    {",
      '      "name": "Track",',
      '      "trigger": "type = \\"track\\"",',
      '      "action": "identify",',
      '      "mapping": {',
      '        "traits": { "@path": "$.traits" },',
      ...FIELDS,
      "      }",
      "    }",
      "  ]",
      "}",
    ]);

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("(1 problem)");
    expect(text).not.toContain('unknown key "traits"');
  });
});

describe("check of invalid JSON", () => {
  test("names the line that misses a comma", async () => {
    const directory = writeConfigLines(["{", '  "mappings": [', "    {", '      "name": "Track",', '      "action": "trackEvent"', '      "trigger": "type = \\"track\\""', "    }", "  ]", "}"]);

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("line 6, column 7:");
    expect(text).toContain('invalid JSON: expected a comma or }, found "\\"". A comma is probably missing at the end of line 5');
  });

  test("a missing comma in an array", async () => {
    const directory = writeConfigLines(["{", '  "excludeEmails": ["*@a.example" "*@b.example"],', '  "mappings": []', "}"]);

    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('expected a comma or ], found "\\"". A comma is probably missing before it');
  });

  test("no comma hint for other text", async () => {
    const directory = writeConfigLines(["{", '  "mappings": [] x', "}"]);

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain('expected a comma or }, found "x"');
    expect(text).not.toContain("A comma is probably missing");
  });
});

describe("check of a key given twice", () => {
  test("message ends with a full sentence", async () => {
    const directory = writeConfigLines([
      "{",
      '  "mappings": [',
      "    {",
      '      "name": "Track",',
      '      "trigger": "type = \\"track\\"",',
      '      "action": "trackEvent",',
      '      "action": "trackEvent",',
      '      "mapping": {',
      ...FIELDS,
      "      }",
      "    }",
      "  ]",
      "}",
    ]);

    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("and only the last would be used. Delete one of the two, or, if one was meant to be another key, correct its name. fix the problems listed");
  });
});
