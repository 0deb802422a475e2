import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";

// npx and `npm exec` (npm 10.9 and 11.19) start the tool with npm_command=exec in its environment.
const NPX = { npm_command: "exec" };

/** Matches `koala-replay <word>` not preceded by `npx `: a command that fails after a local npm install. */
const BARE_COMMAND = /(?<!npx )koala-replay [a-z-]/;

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-commands-"));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

describe("printed commands under npx", () => {
  test("init hint starts with npx", async () => {
    const result = await runCli(["init"], { cwd: directory, env: NPX });

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("npx koala-replay check");
    expect(result.stderr).toContain("npx koala-replay preview");
    expect(result.stderr).not.toMatch(BARE_COMMAND);
  });

  test("init hint without npm stays bare", async () => {
    const result = await runCli(["init"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("koala-replay check");
    expect(result.stderr).not.toContain("npx");
  });

  test("error hints start with npx", async () => {
    const missingConfig = await runCli(["check", "--config", "missing.json"], { cwd: directory, env: NPX });
    const missingInput = await runCli(["send", "--dry-run", "missing.jsonl"], { cwd: directory, env: NPX });
    const noTrigger = await runCli(["check", "--event", "{}"], { cwd: directory, env: NPX });

    expect(missingConfig.stderr).toContain("npx koala-replay init missing.json");
    expect(missingConfig.stderr).not.toMatch(BARE_COMMAND);
    expect(missingInput.stderr).toContain("npx koala-replay send --help");
    expect(missingInput.stderr).not.toMatch(BARE_COMMAND);
    expect(noTrigger.stderr).toContain("npx koala-replay check --trigger");
  });

  test("help examples start with npx", async () => {
    for (const command of ["send", "preview", "inspect", "check", "init"]) {
      const result = await runCli([command, "--help"], { env: NPX });
      const examples = result.stdout.slice(result.stdout.indexOf("Examples:"));

      expect(examples, command).toContain(`npx koala-replay ${command}`);
      expect(examples, command).not.toMatch(BARE_COMMAND);
    }
  });

  test("resume hint after a fatal stop starts with npx", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test_0123456789abcdef" });
    const input = join(directory, "events.jsonl");
    writeFileSync(input, `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), input], {
      cwd: directory,
      env: { ...NPX, KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" },
    });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`npx koala-replay send --no-stitch --endpoint ${emulator.url}`);
    expect(result.stderr).toMatch(/npx koala-replay send .* --resume\n/);
    expect(result.stderr).not.toMatch(BARE_COMMAND);
  });
});
