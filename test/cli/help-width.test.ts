import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import stringWidth from "string-width";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { binPath, runCli } from "../helpers/run-cli.js";

// npx and `npm exec` start the tool with npm_command=exec, which makes the help examples start with `npx `.
const NPX = { npm_command: "exec" };

const COMMANDS: ReadonlyArray<readonly string[]> = [[], ["send"], ["preview"], ["inspect"], ["check"], ["init"]];

let directory: string;
/** A PATH whose `koala-replay` is a link to the built binary, as after `npm install -g`, so that the help names koala-replay alone. */
let installedPath: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-help-"));
  symlinkSync(binPath, join(directory, "koala-replay"));
  installedPath = `${directory}${delimiter}${process.env["PATH"] ?? ""}`;
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("help text width", () => {
  // Run as `node bin/koala-replay.js`, the examples start with that longer command and may be wider.
  test.each(COMMANDS.map((command) => [command.join(" ") || "(program)", command] as const))("%s --help fits 80 columns", async (_name, command) => {
    for (const env of [{ PATH: installedPath }, NPX]) {
      const result = await runCli([...command, "--help"], { env });

      expect(result.status).toBe(0);
      for (const line of result.stdout.split("\n")) {
        expect(stringWidth(line), line).toBeLessThanOrEqual(80);
      }
    }
  });

  test("examples name the command that ran", async () => {
    const installed = await runCli(["inspect", "--help"], { env: { PATH: installedPath } });
    const withNode = await runCli(["inspect", "--help"]);

    expect(installed.stdout).toContain("\n  koala-replay inspect ");
    expect(withNode.stdout).toContain("\n  node bin/koala-replay.js inspect ");
  });

  test("send --help names maximums", async () => {
    const result = await runCli(["send", "--help"]);
    const help = result.stdout.replace(/\s+/g, " ");

    expect(help).toContain("--concurrency <requests> maximum requests in flight at once");
    expect(help).toContain("--max-rps <requests> maximum requests started per second");
    expect(help).toContain("--max-batch-size <entries> maximum entries of each kind in one request");
  });
});

describe("help defaults", () => {
  test.each(COMMANDS.filter((command) => command.length > 0).map((command) => [command.join(" "), command] as const))("%s --help shows defaults unquoted", async (_name, command) => {
    const result = await runCli([...command, "--help"]);
    const text = result.stdout.replace(/\s+/g, " ");

    expect(result.status).toBe(0);
    expect(text).not.toMatch(/default: "/);
  });

  test("send --help shows numbers as typed", async () => {
    const text = (await runCli(["send", "--help"])).stdout.replace(/\s+/g, " ");

    expect(text).toContain("(default: 8)");
    expect(text).toContain("1 to 30 (default: 30)");
    expect(text).toContain("in milliseconds (default: 30000)");
    expect(text).toContain("(default: https://api2.getkoala.com)");
  });
});

describe("help exit statuses", () => {
  test.each(COMMANDS.map((command) => [command.join(" ") || "(program)", command] as const))("%s --help lists one per line", async (_name, command) => {
    const result = await runCli([...command, "--help"]);
    const section = result.stdout.split("\nExit status:\n")[1];

    expect(section, "no 'Exit status:' heading on a line of its own").toBeDefined();
    const lines = (section ?? "").split("\n\n")[0]!.split("\n").filter((line) => line !== "");
    expect(lines[0]).toMatch(/^ {2}0 {4}\S/);
    for (const line of lines) {
      // A status starts its line; a description too long for one line goes on, indented under it.
      expect(line).toMatch(/^ {2}(?:\d{1,3} +| {5})\S/);
    }
  });
});
