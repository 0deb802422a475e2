import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { shellQuote } from "../../src/cli/tool-command.js";
import { deadLetterResendCommand } from "../../src/cli/rerun-commands.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

/** A file name with an escape sequence that would turn the terminal red, and a tab. */
const NAME = "ev\u001b[31mil\tname.jsonl";
const ESCAPED_NAME = "ev\\u001b[31mil\\u0009name.jsonl";
/** C0 and C1 control characters and DEL, which no line printed for a person may contain raw. */
const CONTROL_CHARACTER = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-control-"));
  // An event without an email (skipped), one whose mapping fails (invalid) and a line that is not JSON.
  const events = [
    JSON.stringify({ type: "track", event: "A", messageId: "m-1", timestamp: "2024-01-01T00:00:00Z" }),
    JSON.stringify({ type: "track", event: "A", messageId: "m-2", properties: { email: "a@example.com" } }),
    "not json",
  ];
  writeFileSync(join(directory, NAME), `${events.join("\n")}\n`);
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("control characters in option values", () => {
  test("commander's error escapes them", async () => {
    const result = await runCli(["send", "--dry-run", "--format", "js\u001b[31mon", "x.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(CONTROL_CHARACTER);
    expect(unwrapSummary(result.stderr)).toContain("error: option '--format <format>' argument 'js\\u001b[31mon' is invalid.");
  });

  test("commander's error escapes a value's newline", async () => {
    const result = await runCli(["send", "--dry-run", "--format", "js\non", "x.jsonl"]);
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(stderr).toContain("error: option '--format <format>' argument 'js\\u000aon' is invalid. Allowed choices are");
    expect(result.stderr).not.toContain("\non' is invalid");
  });

  test("commander's suggestion goes to the hint", async () => {
    const result = await runCli(["send", "--dry-runn", "x.jsonl"]);
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(stderr).toContain("error: unknown option '--dry-runn' Did you mean --dry-run? Add --help to the command for its usage.");
  });

  test("usage error keeps a newline of the value on its line", async () => {
    const result = await runCli(["send", "--concurrency", "5\nerror: forged", "x.jsonl"], { env: { KOALA_PUBLIC_KEY: "pk_test_0123456789" } });

    expect(result.status).toBe(2);
    expect(result.stderr).not.toContain("\nerror: forged");
    expect(unwrapSummary(result.stderr)).toContain('error: invalid --concurrency "5\\u000aerror: forged": expected a whole number from 1 to 256');
  });

  test("missing input keeps a newline of its name on its line", async () => {
    const result = await runCli(["inspect", "missing\nerror: forged.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr).not.toContain("\nerror: forged");
    expect(unwrapSummary(result.stderr)).toContain("error: input not found: missing\\u000aerror: forged.jsonl");
  });
});

describe("control characters in file names", () => {
  test("send: warnings, summary and verbose log", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--verbose", NAME], { cwd: directory });

    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(CONTROL_CHARACTER);
    expect(result.stderr).toContain(`warning: ${ESCAPED_NAME}:3: invalid JSON`);
    expect(result.stderr).toContain(`invalid: ${ESCAPED_NAME}:2 (mapping "Track Event")`);
    expect(unwrapSummary(result.stderr)).toContain(`${ESCAPED_NAME}:3 malformed-json`);
    expect(unwrapSummary(result.stderr)).toContain(`(first at ${ESCAPED_NAME}:2)`);
  });

  test("inspect text", async () => {
    const result = await runCli(["inspect", "--no-stitch", NAME], { cwd: directory });

    expect(result.status).toBe(1);
    expect(result.stdout).not.toMatch(CONTROL_CHARACTER);
    expect(unwrapSummary(result.stdout)).toContain(`${ESCAPED_NAME}:3 malformed-json`);
  });

  test("inspect --json keeps the name", async () => {
    const result = await runCli(["inspect", "--json", "--no-stitch", NAME], { cwd: directory });
    const report = JSON.parse(result.stdout) as { inputs: string[] };

    expect(report.inputs).toEqual([NAME]);
  });

  test("preview text and warnings", async () => {
    const result = await runCli(["preview", "--no-stitch", NAME], { cwd: directory });

    expect(result.status).toBe(1);
    expect(result.stdout).not.toMatch(CONTROL_CHARACTER);
    expect(result.stderr).not.toMatch(CONTROL_CHARACTER);
    expect(unwrapSummary(result.stdout)).toContain(`── ${ESCAPED_NAME}:1`);
    expect(result.stderr).toContain(`warning: ${ESCAPED_NAME}:3: invalid JSON`);
  });

  test("preview: C1 control character in an event value", async () => {
    // U+009B is the one-character form of ESC [, which starts a control sequence on some terminals.
    const event = { type: "track", event: "Order\u009b2JDone", messageId: "m-9", timestamp: "2024-01-01T00:00:00Z", properties: { email: "a@example.com" } };
    writeFileSync(join(directory, "c1.jsonl"), `${JSON.stringify(event)}\n`);
    const result = await runCli(["preview", "--no-stitch", "c1.jsonl"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(CONTROL_CHARACTER);
    expect(result.stdout).toContain('"event": "Order\\u009b2JDone"');
  });

  test("error for a missing input", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", `missing-${NAME}`], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(CONTROL_CHARACTER);
    expect(unwrapSummary(result.stderr)).toContain(`error: input not found: missing-${ESCAPED_NAME}`);
  });

  test("trigger error shows no control character", async () => {
    const result = await runCli(["check", "--trigger", 'type = "track"\u0007 and']);

    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(CONTROL_CHARACTER);
    expect(result.stderr).toContain('  type = "track"  and\n');
  });
});

describe("control characters in printed commands", () => {
  test("shellQuote: bash reads back the name", () => {
    const name = "a\u001b[2J\tb\u0085c's\\d.jsonl";
    const quoted = shellQuote(name);
    const echoed = spawnSync("bash", ["-c", `printf '%s' ${quoted}`], { encoding: "utf8" });

    expect(quoted).not.toMatch(CONTROL_CHARACTER);
    expect(quoted).toBe("$'a\\x1b[2J\\x09b\\u0085c\\'s\\\\d.jsonl'");
    expect(echoed.stdout).toBe(name);
  });

  test("dead-letter command quotes the file", () => {
    const command = deadLetterResendCommand(`dead-${NAME}`, ["send", "--endpoint", "http://127.0.0.1:9", NAME]);

    expect(command).not.toMatch(CONTROL_CHARACTER);
    expect(command.endsWith(" send --endpoint http://127.0.0.1:9 --no-stitch $'dead-ev\\x1b[31mil\\x09name.jsonl'")).toBe(true);
  });
});
