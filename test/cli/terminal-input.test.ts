import { describe, expect, test } from "vitest";
import { printedCommand, runCli } from "../helpers/run-cli.js";
import { runInTerminal } from "../helpers/run-in-terminal.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const NOTICE = "koala-replay: reading events from the terminal, one JSON object per line, until Ctrl-D.";

describe("no input on a terminal", () => {
  test.each([
    ["inspect", "inspect", ["inspect"]],
    ["preview", "preview", ["preview"]],
    ["send --dry-run", "send", ["send", "--dry-run"]],
    ["send --dry-run --no-stitch", "send", ["send", "--dry-run", "--no-stitch"]],
  ])("%s without inputs is a usage error", async (_label, command, args) => {
    const result = await runInTerminal(args, { timeoutMs: 15_000 });

    expect(result.status).toBe(2);
    expect(result.output).toContain("error: no input given\n");
    expect(unwrapSummary(result.output)).toContain(`pass files or directories (${printedCommand()} ${command} <path>…), pipe events in, or give - to type events in the terminal`);
    expect(result.output).not.toContain("standard input can be read only once");
  });

  test.each([
    ["inspect", ["inspect", "-"]],
    ["preview", ["preview", "-"]],
    ["send", ["send", "--dry-run", "--no-stitch", "-"]],
  ])("%s - says it reads the terminal", async (_command, args) => {
    // The terminal's input is empty (script reads /dev/null), so the command ends at once.
    const result = await runInTerminal(args, { timeoutMs: 15_000 });

    expect(result.output).toContain(NOTICE);
    expect(result.output).not.toContain("error:");
  });
});

describe("no input in a pipe", () => {
  test("inspect reads stdin without a notice", async () => {
    const result = await runCli(["inspect", "--json"], { stdin: '{"type":"track","event":"A","userId":"u-1"}\n' });

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain(NOTICE);
    expect((JSON.parse(result.stdout) as { eventsRead: number }).eventsRead).toBe(1);
  });
});
