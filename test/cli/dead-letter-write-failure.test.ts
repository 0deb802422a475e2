import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { type CliResult, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A disk that fills up in the middle of a dead-letter line. The file-size limit of the shell
// (`ulimit -f`, in blocks of 512 bytes in POSIX sh) makes write(2) write part of a line and then
// fail with EFBIG, as it fails with ENOSPC on a full disk. This needs neither root nor a file
// system of its own. SIGXFSZ is ignored so that the process gets the error instead of being killed.

const KEY = "pk_dead_letter_write_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-dead-letter-write-"));
  // 418 is a client error that is neither retried nor split: the whole batch is dead-lettered at once.
  emulator = await startKoalaEmulator({ publicKey: KEY, faults: { batchStatus: 418 } });
  const lines = Array.from({ length: 6 }, (_, index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `w-${index + 1}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: "ada@example.com" } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

const SEND_ARGS = ["send", "--no-stitch", "--no-progress"];

/** Runs the CLI with files limited to `blocks` × 512 bytes. */
function sendWithFileLimit(blocks: number, args: readonly string[] = []): Promise<CliResult> {
  return runCli([...SEND_ARGS, "--endpoint", emulator.url, ...args, "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY }, fileSizeLimitBlocks: blocks });
}

function send(args: readonly string[] = []): Promise<CliResult> {
  return runCli([...SEND_ARGS, "--endpoint", emulator.url, ...args, "events.jsonl"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

function deadLetterPath(): string {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".dead-letters.jsonl"));
  if (name === undefined) throw new Error("no dead-letter file in .koala-replay");
  return join(directory, ".koala-replay", name);
}

function deadLetterLines(): string[] {
  return readFileSync(deadLetterPath(), "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

describe("dead-letter write that fails part-way", () => {
  test("run stops and names the file", async () => {
    const stopped = await sendWithFileLimit(2);
    const message = unwrapSummary(stopped.stderr);

    expect(stopped.status).toBe(3);
    expect(message).toContain(`Cannot write the dead-letter file ${deadLetterPath()}`);
    expect(message).toContain("EFBIG");
    expect(message).toContain("--resume");
  });

  test("no part of a line is left", async () => {
    await sendWithFileLimit(2);
    const lines = deadLetterLines();

    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });

  test("resume writes each entry once", async () => {
    await sendWithFileLimit(2);
    const resumed = await send(["--resume"]);
    const ids = deadLetterLines().map((line) => (JSON.parse(line) as { messageId: string }).messageId);

    expect(resumed.status).toBe(1);
    expect(ids.sort()).toEqual(["w-1", "w-2", "w-3", "w-4", "w-5", "w-6"]);
  });
});
