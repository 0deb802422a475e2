import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type EmulatorFaults, type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { writeTrackEvents } from "../helpers/track-events.js";

// The built CLI against the Koala emulator when Koala goes down part-way through a send: the run
// stops with its checkpoint instead of dead-lettering, and a resume delivers the rest.

const KEY = "pk_test_0123456789abcdef";
const EVENT_COUNT = 600;

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Arguments of a send with small batches, so that the run takes many requests and the outage starts part-way. */
function sendArgs(directory: string, input: string, extra: readonly string[] = []): string[] {
  return [
    "send",
    "--no-stitch",
    "--endpoint",
    (emulator as KoalaEmulator).url,
    "--max-batch-size",
    "2",
    "--concurrency",
    "2",
    "--no-adaptive-concurrency",
    "--state",
    join(directory, "state.json"),
    "--dead-letter",
    join(directory, "dead-letters.jsonl"),
    ...extra,
    input,
  ];
}

/**
 * Starts the emulator and calls `goDown` once, when it has accepted `after` entries. It listens on a
 * port below Linux's default range of ports that the system hands out (32768 to 60999), so that no
 * other program running tests takes its port while it is down.
 */
async function startEmulatorGoingDown(after: number, goDown: (faults: EmulatorFaults) => void): Promise<KoalaEmulator> {
  const faults: EmulatorFaults = {};
  let wentDown = false;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const started: KoalaEmulator = await startKoalaEmulator({
        publicKey: KEY,
        faults,
        port: 20_000 + Math.floor(Math.random() * 10_000),
        onResponse: () => {
          if (!wentDown && started.accepted.size >= after) {
            wentDown = true;
            goDown(faults);
          }
        },
      });
      return started;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 20) {
        throw error;
      }
    }
  }
}

/** A way for Koala to go down and come back. */
interface OutageKind {
  name: string;
  /** The error that the stopped run names last. */
  lastError: string;
  /** What the run report records of that error. */
  reported: { status: number | null; errorCode: string | null };
  /** The start of the stop message. */
  stop: RegExp;
  goDown(emulator: KoalaEmulator, faults: EmulatorFaults): void;
  comeBack(emulator: KoalaEmulator, faults: EmulatorFaults): Promise<void>;
}

describe("send when Koala goes down", () => {
  const outages: readonly OutageKind[] = [
    {
      name: "refused connections",
      lastError: "ECONNREFUSED",
      reported: { status: null, errorCode: "ECONNREFUSED" },
      stop: /stopped: Koala did not respond for \d+ s: [\d,]+ attempts of several persons failed with connection errors/,
      goDown: (down) => void down.stopListening(),
      comeBack: (down) => down.listenAgain(),
    },
    {
      name: "503 answers",
      lastError: "HTTP 503",
      reported: { status: 503, errorCode: null },
      stop: /stopped: Koala answered only with errors for \d+ s: [\d,]+ attempts of several persons got 5xx or 408 responses/,
      goDown: (_down, faults) => {
        faults.batchStatus = 503;
      },
      comeBack: async (_down, faults) => {
        delete faults.batchStatus;
      },
    },
  ];

  test.each(outages)("outage of $name stops with exit 3, then resumes", async ({ lastError, reported, stop, goDown, comeBack }) => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-outage-"));
    const { path, ids } = writeTrackEvents(directory, EVENT_COUNT);
    let faultsOfRun: EmulatorFaults | undefined;
    emulator = await startEmulatorGoingDown(150, (faults) => {
      faultsOfRun = faults;
      goDown(emulator as KoalaEmulator, faults);
    });

    const reportPath = join(directory, "report.json");
    const first = await runCli(sendArgs(directory, path, ["--max-outage-ms", "1000", "--report", reportPath]), { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 45_000 });

    // The message is wrapped to the terminal width, so its lines are joined before matching.
    const message = first.stderr.replace(/\s+/g, " ");
    expect(first.status).toBe(3);
    expect(message).toMatch(stop);
    expect(message).toContain(`last error: ${lastError}`);
    expect(first.stderr).toContain("once Koala responds again, resume with:");
    expect(first.stderr).toMatch(/--resume/);
    expect(first.stderr).not.toContain(KEY);
    expect(existsSync(join(directory, "dead-letters.jsonl"))).toBe(false);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { delivery: { fatal: { reason: string; status: number | null; errorCode: string | null; message: string } } };
    expect(report.delivery.fatal.reason).toBe("unavailable");
    expect(report.delivery.fatal.status).toBe(reported.status);
    expect(report.delivery.fatal.errorCode).toBe(reported.errorCode);
    expect(report.delivery.fatal.message).toContain(`last error: ${lastError}`);
    expect(report.delivery.fatal.message).not.toContain(KEY);
    const acceptedBeforeResume = emulator.accepted.size;
    expect(acceptedBeforeResume).toBeGreaterThanOrEqual(150);
    expect(acceptedBeforeResume).toBeLessThan(EVENT_COUNT);
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished?: boolean };
    expect(state.finished).not.toBe(true);

    await comeBack(emulator, faultsOfRun as EmulatorFaults);
    const resumed = await runCli(sendArgs(directory, path, ["--resume"]), { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 45_000 });

    expect(resumed.stderr).not.toContain("stopped:");
    expect(resumed.status).toBe(0);
    expect(emulator.accepted.size).toBe(EVENT_COUNT);
    for (const id of ids) {
      expect(emulator.accepted.has(id)).toBe(true);
    }
    // Only requests cut off by the outage may be received twice, which Koala records once.
    expect(emulator.stats.duplicateEntries).toBeLessThanOrEqual(4);
    expect(existsSync(join(directory, "dead-letters.jsonl"))).toBe(false);
  }, 60_000);

  test("short outage is retried through", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-outage-"));
    const { path, ids } = writeTrackEvents(directory, EVENT_COUNT);
    emulator = await startEmulatorGoingDown(150, () => {
      const down = emulator as KoalaEmulator;
      void down.stopListening().then(() => setTimeout(() => void down.listenAgain(), 300));
    });

    const result = await runCli(sendArgs(directory, path, ["--max-outage-ms", "10000"]), { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 45_000 });

    expect(result.stderr).not.toContain("stopped:");
    expect(result.status).toBe(0);
    expect(emulator.accepted.size).toBe(ids.length);
    expect(existsSync(join(directory, "dead-letters.jsonl"))).toBe(false);
  }, 60_000);

  test("dropped connections are retried through", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-outage-"));
    const { path, ids } = writeTrackEvents(directory, EVENT_COUNT);
    emulator = await startKoalaEmulator({ publicKey: KEY, seed: 3, faults: { dropRate: 0.05 } });

    const result = await runCli(sendArgs(directory, path, ["--max-outage-ms", "1000"]), { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 45_000 });

    expect(emulator.stats.statusCounts["dropped"]).toBeGreaterThan(0);
    expect(result.stderr).not.toContain("stopped:");
    expect(result.status).toBe(0);
    expect(emulator.accepted.size).toBe(ids.length);
  }, 60_000);

  test("one person's 400s are dead-lettered without stopping", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-outage-"));
    const { path } = writeTrackEvents(directory, EVENT_COUNT);
    const rejected = (entry: Record<string, unknown>): boolean => (entry["properties"] as { index: number }).index % 25 === 7;
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: rejected } });

    const result = await runCli(sendArgs(directory, path, ["--max-outage-ms", "1000"]), { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 45_000 });

    expect(result.stderr).not.toContain("stopped:");
    expect(result.status).toBe(1);
    const deadLetters = readFileSync(join(directory, "dead-letters.jsonl"), "utf8").trim().split("\n");
    expect(deadLetters).toHaveLength(EVENT_COUNT / 25);
    expect(emulator.accepted.size).toBe(EVENT_COUNT - EVENT_COUNT / 25);
  }, 60_000);
});
