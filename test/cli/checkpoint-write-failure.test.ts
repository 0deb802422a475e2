import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { type CliResult, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A disk that fills up while the checkpoint is saved. The file-size limit of the shell (`ulimit -f`,
// in blocks of 512 bytes in POSIX sh) makes write(2) write the first bytes of the state file and
// report success, and fail with EFBIG only on the next call, as a full disk does with ENOSPC.
// SIGXFSZ is ignored so that the process gets the error instead of being killed.

const KEY = "pk_checkpoint_write_0123456789";
const INPUT_COUNT = 6;

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-checkpoint-write-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  // Long input names make a state file of more than 1,024 bytes, the limit below.
  for (let index = 0; index < INPUT_COUNT; index++) {
    const line = JSON.stringify({ type: "track", event: "Clicked", messageId: `c-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: "ada@example.com" } } });
    writeFileSync(join(directory, inputName(index)), `${line}\n`);
  }
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function inputName(index: number): string {
  return `${"events-".repeat(20)}${index}.jsonl`;
}

/** Runs `send` with files limited to `blocks` × 512 bytes. */
function sendWithFileLimit(blocks: number): Promise<CliResult> {
  const inputs = Array.from({ length: INPUT_COUNT }, (_, index) => inputName(index));
  const args = ["send", "--no-stitch", "--no-progress", "--endpoint", emulator.url, "--state", "state.json", ...inputs];
  return runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY }, fileSizeLimitBlocks: blocks });
}

describe("checkpoint write that fails part-way", () => {
  test("no cut-short state file is left", async () => {
    const result = await sendWithFileLimit(2);
    const statePath = join(directory, "state.json");

    expect(unwrapSummary(result.stderr)).toContain("the checkpoint could not be written to state.json (EFBIG");
    if (existsSync(statePath)) {
      expect(() => JSON.parse(readFileSync(statePath, "utf8")) as unknown).not.toThrow();
    }
  });

  test("entries are still delivered", async () => {
    await sendWithFileLimit(2);

    expect(emulator.accepted.size).toBe(INPUT_COUNT);
  });
});

describe("checkpoint saves that keep failing", () => {
  test("error printed once, failures counted", async () => {
    const result = await sendWithFileLimit(2);
    const summary = unwrapSummary(result.stderr);
    const failures = Number(/checkpoint failed (\d+) saves of the checkpoint failed/.exec(summary)?.[1] ?? "0");

    expect(summary.split("the checkpoint could not be written to state.json")).toHaveLength(2);
    expect(summary).toContain("Later failures to write it are not printed, and the summary counts them");
    expect(failures).toBeGreaterThan(1);
    expect(summary).toContain("(the first error is printed above), so a resume sends again what the last save that worked did not record");
  });
});
