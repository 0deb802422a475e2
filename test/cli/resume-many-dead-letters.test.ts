import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";

// A run whose checkpoint saves failed for a long time wrote more dead letters after its last save
// than a resume used to read back (100,000), and the resume wrote the rest a second time. The files
// are made as such a run leaves them: a checkpoint that covers nothing, and a dead-letter file with
// a line for every event.

const KEY = "pk_many_dead_letters_0123456789";
const EVENTS = 100_010;

let directory: string;
let emulator: KoalaEmulator;

beforeAll(async () => {
  directory = realpathSync(mkdtempSync(join(tmpdir(), "koala-replay-many-dead-letters-")));
  // 418 is a client error that is neither retried nor split: each batch is dead-lettered at once.
  emulator = await startKoalaEmulator({ publicKey: KEY, faults: { batchStatus: 418 }, keepRequests: false });
  const events: string[] = [];
  const deadLetters: string[] = [];
  for (let index = 1; index <= EVENTS; index += 1) {
    events.push(JSON.stringify({ type: "track", event: "E", messageId: `m-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index % 1000}@example.com` } } }));
    deadLetters.push(JSON.stringify({ koalaReplayDeadLetter: 1, mapping: "Track Event", messageId: `m-${index}` }));
  }
  writeFileSync(join(directory, "events.jsonl"), `${events.join("\n")}\n`);
  writeFileSync(join(directory, "dead.jsonl"), `${deadLetters.join("\n")}\n`);
  const state = {
    version: 2,
    savedAt: "2024-01-01T00:00:00.000Z",
    finished: false,
    endpoint: null,
    deadLetterFile: { path: join(directory, "dead.jsonl"), bytes: 0 },
    inputs: { [join(directory, "events.jsonl")]: { fingerprint: null, doneThrough: 0, watermark: 0, notDone: [] } },
  };
  writeFileSync(join(directory, "state.json"), JSON.stringify(state));
});

afterAll(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

describe("resume with many unsaved dead letters", () => {
  test("no dead letter is written twice", async () => {
    const sizeBefore = statSync(join(directory, "dead.jsonl")).size;
    const resumed = await runCli(
      ["send", "--no-stitch", "--no-progress", "--resume", "--state", "state.json", "--dead-letter", "dead.jsonl", "--endpoint", emulator.url, "events.jsonl"],
      { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory },
    );
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished: boolean; deadLetterFile: { bytes: number } };

    expect(resumed.status).toBe(1);
    expect(statSync(join(directory, "dead.jsonl")).size).toBe(sizeBefore);
    expect(state.finished).toBe(true);
    expect(state.deadLetterFile.bytes).toBe(sizeBefore);
  }, 180_000);
});
