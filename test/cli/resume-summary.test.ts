import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A resume skips every event that earlier runs finished, and its summary counted them all as
// already-delivered, those that the earlier run filtered out included.

const KEY = "pk_resume_summary_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-summary-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  // Two events of 2023, which --since 2024-01-01 filters out, and three of 2024.
  const lines = ["2023-06-01", "2023-07-01", "2024-02-01", "2024-03-01", "2024-04-01"].map((day, index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `s-${index + 1}`, timestamp: `${day}T00:00:00.000Z`, context: { traits: { email: `p${index + 1}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--no-progress", "--since", "2024-01-01", "--endpoint", emulator.url, ...args, "events.jsonl"], {
    env: { KOALA_PUBLIC_KEY: KEY },
    cwd: directory,
  });
}

function statePath(): string {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  return join(directory, ".koala-replay", name);
}

describe("resume summary of events done earlier", () => {
  test("delivered and skipped are told apart", async () => {
    const first = await send([]);
    const resumed = await send(["--resume", "--report", "report.json"]);
    const summary = unwrapSummary(resumed.stderr);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { skippedByReason: Record<string, number> };

    expect(first.stderr).toMatch(/filtered-out +2/);
    expect(resumed.status).toBe(0);
    expect(report.skippedByReason).toEqual({ "already-delivered": 3, "skipped-earlier": 2 });
    expect(summary).toMatch(/already-delivered +3 +delivered or dead-lettered by an earlier run/);
    expect(summary).toMatch(/skipped-earlier +2 +skipped or found invalid by an earlier run/);
  });

  test("state file counts records without entries", async () => {
    await send([]);
    const state = JSON.parse(readFileSync(statePath(), "utf8")) as { inputs: Record<string, { doneWithoutEntries: number }> };

    expect(Object.values(state.inputs).map((input) => input.doneWithoutEntries)).toEqual([2]);
  });

  test("older checkpoint gives one honest row", async () => {
    await send([]);
    const state = JSON.parse(readFileSync(statePath(), "utf8")) as { inputs: Record<string, Record<string, unknown>> };
    for (const input of Object.values(state.inputs)) {
      delete input["doneWithoutEntries"];
    }
    writeFileSync(statePath(), JSON.stringify(state));
    const resumed = await send(["--resume"]);

    expect(unwrapSummary(resumed.stderr)).toMatch(/done-earlier +5 +done by an earlier run \(delivered, dead-lettered, skipped or found invalid\)/);
  });
});
