import { appendFileSync, chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The checkpoint is saved at most once a second, so a run killed with SIGKILL has dead-lettered
// entries of records that its last save does not count done. The resume fails them again, and it
// appended their lines to the dead-letter file a second time. These tests leave the files as such a
// kill does: the state file of the last save, and a dead-letter file with lines written after it.

const KEY = "pk_resume_dead_letters_0123456789";
const REJECTED = new Set(["d-3", "d-7", "d-9"]);

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-dead-letters-"));
  emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => REJECTED.has(String(entry["message_id"])) } });
  const lines = Array.from({ length: 10 }, (_, index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `d-${index + 1}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index + 1}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(args: readonly string[] = [], user?: { uid: number; gid: number }): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--max-batch-size", "1", "--endpoint", emulator.url, ...args, "events.jsonl"], {
    env: { KOALA_PUBLIC_KEY: KEY },
    cwd: directory,
    ...(user === undefined ? {} : { user }),
  });
}

/**
 * Returns the user to run koala-replay as so that a read-only file cannot be written: none for a
 * user other than root, and nobody (65534) for root, which permissions do not stop. The folder,
 * the checkpoint and the dead-letter file are made readable, and the folders writable, for nobody.
 */
function userStoppedByPermissions(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  chmodSync(directory, 0o777);
  chmodSync(join(directory, ".koala-replay"), 0o777);
  chmodSync(statePath(), 0o644);
  return { uid: 65_534, gid: 65_534 };
}

function statePath(): string {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  return join(directory, ".koala-replay", name);
}

function deadLetterPath(): string {
  return statePath().replace(/\.json$/, ".dead-letters.jsonl");
}

/** Returns the messageIds of the dead-letter file, sorted, because concurrent requests fail in any order. */
function deadLetterIds(): string[] {
  return readFileSync(deadLetterPath(), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { messageId: string }).messageId)
    .sort();
}

/**
 * Rewrites the state file as the last save before a SIGKILL left it: lines up to `doneThrough` done,
 * and the dead-letter file `deadLetterBytes` long at that save.
 */
function rewindCheckpoint(doneThrough: number, deadLetterBytes: number): void {
  const state = JSON.parse(readFileSync(statePath(), "utf8")) as { finished: boolean; deadLetterFile: { bytes: number }; inputs: Record<string, Record<string, unknown>> };
  state.finished = false;
  state.deadLetterFile.bytes = deadLetterBytes;
  for (const input of Object.values(state.inputs)) {
    Object.assign(input, { doneThrough, watermark: doneThrough, notDone: [], readByFinishedRun: false });
  }
  writeFileSync(statePath(), JSON.stringify(state));
}

describe("resume after SIGKILL with dead letters", () => {
  test("state file records the dead-letter length", async () => {
    const first = await send();
    const state = JSON.parse(readFileSync(statePath(), "utf8")) as { deadLetterFile: { path: string; bytes: number } };

    expect(first.status).toBe(1);
    expect(deadLetterIds()).toEqual(["d-3", "d-7", "d-9"]);
    expect(state.deadLetterFile).toEqual({ path: deadLetterPath(), bytes: readFileSync(deadLetterPath()).length });
  });

  test("lines after the last save are not written twice", async () => {
    await send();
    const firstLineBytes = readFileSync(deadLetterPath(), "utf8").indexOf("\n") + 1;
    rewindCheckpoint(5, firstLineBytes);
    const resumed = await send(["--resume"]);

    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(/failed +2/);
    expect(deadLetterIds()).toEqual(["d-3", "d-7", "d-9"]);
  });

  test("line cut off by the kill is written again", async () => {
    await send();
    const text = readFileSync(deadLetterPath(), "utf8");
    const lines = text.split("\n").filter((line) => line !== "");
    // The kill came while the line of d-9 was being written: half of it is in the file.
    writeFileSync(deadLetterPath(), `${lines[0]}\n${lines[1]}\n`);
    appendFileSync(deadLetterPath(), (lines[2] as string).slice(0, 100));
    rewindCheckpoint(5, (lines[0] as string).length + 1);
    const resumed = await send(["--resume"]);
    const after = readFileSync(deadLetterPath(), "utf8").split("\n").filter((line) => line !== "");

    expect(after).toHaveLength(3);
    expect(after.slice(0, 2)).toEqual(lines.slice(0, 2));
    expect((JSON.parse(after[2] as string) as { messageId: string }).messageId).toBe("d-9");
    expect(unwrapSummary(resumed.stderr)).toContain(
      "ended with 100 bytes of a line without its newline, left by a run that was killed while writing it. That piece of a line was cut off, and this resume sends its entry again",
    );
  });

  test("resend after the cut reads every line", async () => {
    await send();
    const lines = readFileSync(deadLetterPath(), "utf8").split("\n").filter((line) => line !== "");
    writeFileSync(deadLetterPath(), `${lines[0]}\n${lines[1]}\n${(lines[2] as string).slice(0, 100)}`);
    rewindCheckpoint(5, (lines[0] as string).length + 1);
    await send(["--resume"]);
    const accepting = await startKoalaEmulator({ publicKey: KEY });
    try {
      const resent = await runCli(["send", "--no-stitch", "--endpoint", accepting.url, "--state", "resend.json", deadLetterPath()], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

      expect(resent.status).toBe(0);
      expect(unwrapSummary(resent.stderr)).toMatch(/unreadable +0/);
      expect([...accepting.accepted.keys()].sort()).toEqual(["d-3", "d-7", "d-9"]);
    } finally {
      await accepting.close();
    }
  });

  test("read-only file keeps the piece, with a warning", async () => {
    await send();
    const lines = readFileSync(deadLetterPath(), "utf8").split("\n").filter((line) => line !== "");
    const written = `${lines[0]}\n${lines[1]}\n${(lines[2] as string).slice(0, 100)}`;
    writeFileSync(deadLetterPath(), written);
    rewindCheckpoint(5, (lines[0] as string).length + 1);
    chmodSync(deadLetterPath(), 0o444);
    const readOnly = await send(["--resume", "--report", "read-only.json"], userStoppedByPermissions());
    const warning = unwrapSummary(readOnly.stderr);

    expect(warning).toContain(`the dead-letter file ${deadLetterPath()} ends with 100 bytes of a line without its newline`);
    expect(warning).toMatch(/cutting that piece off failed \(EACCES: permission denied/);
    expect(warning).toContain(`make the file writable (chmod u+w ${deadLetterPath()}) and resume again`);
    expect(warning).toMatch(/dead-letter file +1 problem with the dead-letter file, printed above/);
    const report = JSON.parse(readFileSync(join(directory, "read-only.json"), "utf8")) as { delivery: { deadLetterFileErrors: number } };
    expect(report.delivery.deadLetterFileErrors).toBe(1);
    // The line of d-9 cannot be written after the piece either, so the run stops there.
    expect(readOnly.status).toBe(3);
    expect(warning).toContain("Cannot write the dead-letter file");
    expect(readFileSync(deadLetterPath(), "utf8")).toBe(written);
    const state = JSON.parse(readFileSync(statePath(), "utf8")) as { deadLetterFile: { bytes: number } };
    expect(state.deadLetterFile.bytes).toBe(written.length - 100);

    chmodSync(deadLetterPath(), 0o644);
    const writable = await send(["--resume"]);
    const after = readFileSync(deadLetterPath(), "utf8").split("\n").filter((line) => line !== "");

    expect(unwrapSummary(writable.stderr)).toContain("That piece of a line was cut off");
    expect(writable.status).toBe(1);
    expect(after.map((line) => (JSON.parse(line) as { messageId: string }).messageId).sort()).toEqual(["d-3", "d-7", "d-9"]);
  });

  test("piece before the checkpoint length is kept", async () => {
    await send();
    const lines = readFileSync(deadLetterPath(), "utf8").split("\n").filter((line) => line !== "");
    // A checkpoint that recorded a length inside the piece: this is not a line written after it, so it stays.
    writeFileSync(deadLetterPath(), `${lines[0]}\n${(lines[1] as string).slice(0, 100)}`);
    rewindCheckpoint(5, (lines[0] as string).length + 50);
    const resumed = await send(["--resume"]);

    expect(readFileSync(deadLetterPath(), "utf8").startsWith(`${lines[0]}\n${(lines[1] as string).slice(0, 100)}\n`)).toBe(true);
    expect(resumed.stderr).not.toContain("was cut off");
  });

  test("a restart writes every dead letter again", async () => {
    await send();
    await send(["--restart"]);

    expect(deadLetterIds()).toEqual(["d-3", "d-3", "d-7", "d-7", "d-9", "d-9"]);
  });

  test("resume with another dead-letter file writes there", async () => {
    await send();
    rewindCheckpoint(5, 0);
    await send(["--resume", "--dead-letter", "other.jsonl"]);
    const other = readFileSync(join(directory, "other.jsonl"), "utf8").split("\n").filter((line) => line !== "");

    expect(other.map((line) => (JSON.parse(line) as { messageId: string }).messageId)).toEqual(["d-7", "d-9"]);
  });
});
