import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";

// A resume skips the lines that an earlier run finished. A later copy of one of their events is
// still a duplicate, as in an uninterrupted run, and an unreadable line among them is not counted
// as unreadable a second time.

const KEY = "pk_resume_duplicates_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-duplicates-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  const event = (messageId: string, email: string): string =>
    JSON.stringify({ type: "track", event: "Clicked", messageId, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email } } });
  // Line 3 repeats line 1, as an at-least-once S3 archive can.
  writeFileSync(join(directory, "events.jsonl"), `${[event("m1", "a@example.com"), event("m2", "b@example.com"), event("m1", "a@example.com")].join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--no-progress", "--endpoint", emulator.url, "--state", "state.json", ...args, "events.jsonl"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

/** Rewrites the checkpoint as a run stopped after line 2 would have left it. */
function stopAfterLine2(): void {
  const path = join(directory, "state.json");
  const state = JSON.parse(readFileSync(path, "utf8")) as { finished: boolean; inputs: Record<string, Record<string, unknown>> };
  state.finished = false;
  for (const input of Object.values(state.inputs)) {
    Object.assign(input, { doneThrough: 2, watermark: 2, notDone: [], readByFinishedRun: false });
  }
  writeFileSync(path, JSON.stringify(state));
}

describe("resume after the first copy of an event was delivered", () => {
  test("skips the later copy as a duplicate", async () => {
    const first = await send([]);
    const requestsBefore = emulator.stats.requests;
    stopAfterLine2();
    const resumed = await send(["--resume"]);

    expect(first.status).toBe(0);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/duplicate-message-id +1/);
    expect(resumed.stderr).toMatch(/already-delivered +2/);
    expect(emulator.stats.requests).toBe(requestsBefore);
  });
});

describe("resume past an unreadable line", () => {
  test("counts it as reported earlier, not again", async () => {
    const event = (messageId: string): string => JSON.stringify({ type: "track", event: "Clicked", messageId, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `${messageId}@example.com` } } });
    writeFileSync(join(directory, "events.jsonl"), `${[event("m1"), "{broken", event("m3")].join("\n")}\n`);
    const first = await send(["--not-sent", "not-sent-1.jsonl"]);
    stopAfterLine2();
    const resumed = await send(["--resume", "--not-sent", "not-sent-2.jsonl", "--report", "report.json"]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { counts: { unreadable: number }; skippedByReason: Record<string, number> };

    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/unreadable +1/);
    expect(readFileSync(join(directory, "not-sent-1.jsonl"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    expect(resumed.status).toBe(0);
    expect(report.counts.unreadable).toBe(0);
    expect(report.skippedByReason["unreadable-earlier"]).toBe(1);
    expect(readFileSync(join(directory, "not-sent-2.jsonl"), "utf8")).toBe("");
    expect(resumed.stderr).not.toContain("invalid JSON");
  });
});
