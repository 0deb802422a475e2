import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { TEST_KEY, temporaryDirectory } from "./helpers.js";

const PROGRAM = join(import.meta.dirname, "programs", "deliver-file.mjs");
const RECORDS = 1_000;

let emulator: KoalaEmulator | undefined;

beforeAll(() => {
  // The child process runs the compiled module, so compile the current sources first.
  execFileSync(join(import.meta.dirname, "..", "..", "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], {
    cwd: join(import.meta.dirname, "..", ".."),
  });
}, 60_000);

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function writeInput(folder: string): string {
  const lines: string[] = [];
  for (let line = 1; line <= RECORDS; line += 1) {
    lines.push(JSON.stringify({ email: `person${line % 37}@example.com`, messageId: `crash-${line}` }));
  }
  const path = join(folder, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** Runs the program; with `killAfterRequests`, kills it with SIGKILL once the emulator has seen that many. */
function runProgram(args: string[], server: KoalaEmulator, killAfterRequests?: number): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PROGRAM, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    let watcher: NodeJS.Timeout | undefined;
    if (killAfterRequests !== undefined) {
      const start = server.stats.batchRequests;
      watcher = setInterval(() => {
        if (server.stats.batchRequests - start >= killAfterRequests) {
          child.kill("SIGKILL");
        }
      }, 1);
    }
    child.on("exit", (code) => {
      clearInterval(watcher);
      resolve({ code, stdout });
    });
  });
}

describe("delivery killed with SIGKILL", () => {
  it.each([3, 40, 120])("resume after kill at request %i delivers everything", async (killAfterRequests) => {
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      seed: killAfterRequests,
      faults: { slowRate: 0.3, slowDelayMs: 15, serverErrorRate: 0.05 },
    });
    const folder = temporaryDirectory();
    const input = writeInput(folder);
    const statePath = join(folder, "state.json");

    const killed = await runProgram([emulator.url, TEST_KEY, input, statePath, "fresh"], emulator, killAfterRequests);
    expect(killed.code).toBeNull();
    const acceptedBeforeResume = emulator.accepted.size;
    expect(acceptedBeforeResume).toBeLessThan(RECORDS);

    const resumed = await runProgram([emulator.url, TEST_KEY, input, statePath, "resume"], emulator);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout.trim().split("\n").at(-1) ?? "{}") as { deadLetteredTotal: number; undelivered: number };
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(0);

    const missing: string[] = [];
    for (let line = 1; line <= RECORDS; line += 1) {
      if (!emulator.accepted.has(`crash-${line}`)) {
        missing.push(`crash-${line}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each([20, 60])("dead letters after kill at request %i are written once", async (killAfterRequests) => {
    // Every entry whose message_id ends in 7 makes Koala reject its request with a 400.
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      seed: killAfterRequests,
      faults: { slowRate: 0.3, slowDelayMs: 15, rejectEntry: (entry) => String(entry["message_id"]).endsWith("7") },
    });
    const folder = temporaryDirectory();
    const input = writeInput(folder);
    const statePath = join(folder, "state.json");

    // A checkpoint saved once a second, as the CLI saves it, leaves dead letters after the last save.
    const killed = await runProgram([emulator.url, TEST_KEY, input, statePath, "fresh", "1000"], emulator, killAfterRequests);
    const resumed = await runProgram([emulator.url, TEST_KEY, input, statePath, "resume", "1000"], emulator);
    const ids = readFileSync(join(folder, "state.dead-letters.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("{") && line.endsWith("}"))
      .map((line) => (JSON.parse(line) as { messageId: string }).messageId);
    const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);

    expect(killed.code).toBeNull();
    expect(resumed.code).toBe(0);
    expect(ids.length).toBeGreaterThan(0);
    expect(repeated).toEqual([]);
  });
});
