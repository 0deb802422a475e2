import stringWidth from "string-width";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";

// npx and `npm exec` start the tool with npm_command=exec, which makes the help examples start with `npx `.
const NPX = { npm_command: "exec" };

const COMMANDS: ReadonlyArray<readonly string[]> = [[], ["send"], ["preview"], ["inspect"], ["check"], ["init"]];

describe("help text width", () => {
  test.each(COMMANDS.map((command) => [command.join(" ") || "(program)", command] as const))("%s --help fits 80 columns", async (_name, command) => {
    for (const env of [{}, NPX]) {
      const result = await runCli([...command, "--help"], { env });

      expect(result.status).toBe(0);
      for (const line of result.stdout.split("\n")) {
        expect(stringWidth(line), line).toBeLessThanOrEqual(80);
      }
    }
  });

  test("send --help names maximums", async () => {
    const result = await runCli(["send", "--help"]);
    const help = result.stdout.replace(/\s+/g, " ");

    expect(help).toContain("--concurrency <requests> maximum requests in flight at once");
    expect(help).toContain("--max-rps <requests> maximum requests started per second");
    expect(help).toContain("--max-batch-size <entries> maximum entries of each kind in one request");
  });
});
