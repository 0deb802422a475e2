import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runReplay } from "../../src/pipeline/run-replay.js";
import { discardingOutput, dryRunSettings } from "../helpers/dry-run-settings.js";
import { createProgress, shouldShowProgress } from "../../src/reporting/progress.js";
import { formatDuration, formatProgressText, type ProgressSnapshot } from "../../src/reporting/progress-text.js";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { writeGeneratedArchive } from "../helpers/generated-archive.js";
import { runCli } from "../helpers/run-cli.js";
import { ANSI_ESCAPE, runInTerminal } from "../helpers/run-in-terminal.js";

const snapshot: ProgressSnapshot = { eventsRead: 120_000, entriesSent: 80_000, skipped: 39_000, failed: 1_000, bytesRead: 250, totalBytes: 1000, readingDone: false };
const delivering: ProgressSnapshot = { ...snapshot, bytesRead: 1000, readingDone: true, entriesPending: 16_000, requestsInFlight: 8 };

/**
 * Returns the progress lines as drawn on a terminal, spinner frame included. Colours take no
 * columns, so they are removed. Every other escape sequence moves the cursor or clears, so it
 * separates two drawings, as line breaks do.
 */
function progressLines(output: string): string[] {
  return output
    .replace(/\u001b\[[0-9;]*m/g, "")
    .split(new RegExp(`${ANSI_ESCAPE.source}|\\r|\\n`))
    .filter((piece) => piece.includes("·") || piece.includes("…"));
}

/** Returns the width of a piece of terminal output, in which every character takes one column. */
function columnsOf(text: string): number {
  return [...text].length;
}

describe("progress line text", () => {
  test("counts, rate, share and time left", () => {
    const text = formatProgressText(snapshot, 10_000, false);

    expect(text).toBe("120,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · 12,000 events/s · 25% read · ~30 s left");
  });

  test("time left covers entries read but not sent", () => {
    // 99% read in 100 s, but 40,000 entries wait for a Koala that took 100 s for 1,000.
    const slowKoala = { ...snapshot, bytesRead: 990, totalBytes: 1_000, entriesSent: 1_000, entriesPending: 40_000 };

    expect(formatProgressText(slowKoala, 100_000, false)).toContain("~1 h 7 min left");
    expect(formatProgressText({ ...slowKoala, entriesPending: 0 }, 100_000, false)).toContain("~1 s left");
  });

  test("time left covers the entries of events not read yet", () => {
    // Half read in 30 s, reading ahead of a Koala that took them for 10,000 entries: the 12,000
    // entries of the half read make about 24,000 in all, 14,000 more at 10,000 per 30 s.
    const readAhead = { ...snapshot, bytesRead: 500, totalBytes: 1_000, entriesSent: 10_000, entriesPending: 2_000 };

    expect(formatProgressText(readAhead, 30_000, false)).toContain("~42 s left");
  });

  test("dry run says printed", () => {
    expect(formatProgressText(snapshot, 10_000, true)).toContain("80,000 printed");
  });

  test("no rate or time left in the first second", () => {
    const text = formatProgressText(snapshot, 500, false);

    expect(text).not.toContain("events/s");
    expect(text).not.toContain("left");
    expect(text).toContain("25%");
  });

  test("stdin of unknown size shows no share", () => {
    const text = formatProgressText({ ...snapshot, totalBytes: undefined }, 10_000, false);

    expect(text).not.toContain("%");
    expect(text).not.toContain("left");
  });

  test("all bytes read before any event: no share", () => {
    const text = formatProgressText({ ...snapshot, eventsRead: 0, entriesSent: 0, skipped: 0, failed: 0, bytesRead: 1000 }, 500, false);

    expect(text).toBe("0 events read · 0 sent · 0 skipped · 0 problems");
  });

  test("no event read yet: no share", () => {
    const text = formatProgressText({ ...snapshot, eventsRead: 0, bytesRead: 500 }, 10_000, false);

    expect(text).not.toContain("%");
    expect(text).not.toContain("left");
  });

  test("bytes past the size: no share", () => {
    const text = formatProgressText({ ...snapshot, bytesRead: 1500 }, 10_000, false);

    expect(text).not.toContain("%");
    expect(text).not.toContain("left");
    expect(text).not.toContain("input read");
  });

  test("no time left in the first 5 seconds", () => {
    expect(formatProgressText(snapshot, 4_000, false)).not.toContain("left");
    expect(formatProgressText(delivering, 4_000, false)).not.toContain("s left");
    expect(formatProgressText(snapshot, 5_000, false)).toContain("~15 s left");
  });

  test("no time left below 2% read", () => {
    expect(formatProgressText({ ...snapshot, bytesRead: 19 }, 10_000, false)).not.toContain("left");
  });

  test("time left has one phrasing at any width", () => {
    for (let width = 40; width <= 200; width += 1) {
      const text = formatProgressText(delivering, 10_000, false, width);
      expect(text).not.toContain("about");
    }
  });

  test("reading done: delivery instead of a share", () => {
    const text = formatProgressText({ ...snapshot, bytesRead: 1000, readingDone: true }, 10_000, false);

    expect(text).toBe("120,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · input read · 8,000 sent/s");
  });

  test("reading done: entries left and requests in flight", () => {
    const text = formatProgressText(delivering, 10_000, false);

    expect(text).toBe("120,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · input read · 8,000 sent/s · 16,000 left to deliver · ~2 s left · 8 requests in flight");
  });

  test("reading done on stdin when the run says so", () => {
    const text = formatProgressText({ ...snapshot, totalBytes: undefined, readingDone: true, requestsInFlight: 1 }, 10_000, true);

    expect(text).toBe("120,000 events read · 80,000 printed · 39,000 skipped · 1,000 problems · input read · 8,000 printed/s · 1 request in flight");
  });

  test("reading not done when the run says so", () => {
    const text = formatProgressText({ ...snapshot, bytesRead: 1000, readingDone: false }, 10_000, false);

    expect(text).not.toContain("%");
    expect(text).not.toContain("input read");
  });

  test("80 columns reading: failures over skipped", () => {
    const text = formatProgressText(snapshot, 10_000, false, 77);

    expect(text).toBe("120,000 events read · 80,000 sent · 1,000 problems · 25% read · ~30 s left");
  });

  test("80 columns reading: 0 problems dropped", () => {
    const text = formatProgressText({ ...snapshot, failed: 0 }, 10_000, false, 77);

    expect(text).toBe("120,000 events read · 80,000 sent · 39,000 skipped · 25% read · ~30 s left");
  });

  test("80 columns after reading: delivery kept", () => {
    const text = formatProgressText(delivering, 10_000, false, 77);

    expect(text).toBe("80,000 sent · 1,000 problems · input read · 16,000 to deliver · ~2 s left");
  });

  test("narrow line shortens before it drops", () => {
    const text = formatProgressText(delivering, 10_000, false, 62);

    expect(text).toBe("80,000 sent · 1,000 problems · 16,000 to deliver · ~2 s left");
  });

  test.each([
    ["reading, 20 columns", snapshot, 17, "120,000 read"],
    ["reading, 30 columns", { ...snapshot, failed: 0 }, 27, "120,000 read · 80,000 sent"],
    ["reading with problems, 46 columns", snapshot, 43, "120,000 read · 80,000 sent · 1,000 problems"],
    ["delivering, 20 columns", delivering, 17, "80,000 sent"],
    ["delivering with problems, 30 columns", { ...delivering, failed: 3 }, 27, "80,000 sent · 3 problems"],
    ["delivering, 40 columns", { ...delivering, failed: 0 }, 37, "80,000 sent · 16,000 left to deliver"],
  ])("narrow terminal keeps the counts: %s", (_case, counts, width, expected) => {
    expect(formatProgressText(counts, 10_000, false, width)).toBe(expected);
  });

  test("wide enough: the whole line", () => {
    const whole = formatProgressText(delivering, 10_000, false);

    expect(formatProgressText(delivering, 10_000, false, whole.length)).toBe(whole);
    expect(formatProgressText(delivering, 10_000, false, whole.length - 1)).not.toBe(whole);
  });

  test.each([200, 117, 77, 60, 40, 20, 10, 3, 1])("width %i is never exceeded", (width) => {
    for (const counts of [snapshot, { ...snapshot, failed: 0 }, delivering, { ...delivering, totalBytes: undefined }]) {
      const text = formatProgressText(counts, 10_000, false, width);

      expect(text.length, text).toBeLessThanOrEqual(width);
      expect(text.length, text).toBeGreaterThan(0);
    }
  });

  test("too narrow: cut with an ellipsis", () => {
    expect(formatProgressText(snapshot, 10_000, false, 10)).toBe("120,000 r…");
  });

  test.each([
    [0, "0 s"],
    [45_000, "45 s"],
    [200_000, "3 min 20 s"],
    [7_500_000, "2 h 5 min"],
  ])("duration %i ms reads %s", (milliseconds, expected) => {
    expect(formatDuration(milliseconds)).toBe(expected);
  });
});

describe("progress rates after the first pass", () => {
  test("measured from the first counts, not the start", async () => {
    let written = "";
    const stream = Object.assign(
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          written += chunk.toString("utf8");
          done();
        },
      }),
      // What ora calls on a terminal stream; the test only needs the text written.
      { columns: 200, isTTY: true, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    let time = 0;
    const progress = await createProgress({ stream, enabled: true, dryRun: false, intervalMs: 0, now: () => time });
    // A first pass of 100 s, then 10,000 events in the next 10 s: 1,000 events/s, not 91.
    progress.phase("first pass");
    time = 100_000;
    progress.update({ eventsRead: 0, entriesSent: 0, skipped: 0, failed: 0, bytesRead: 0, totalBytes: 1_000, readingDone: false });
    time = 110_000;
    progress.update({ eventsRead: 10_000, entriesSent: 5_000, skipped: 0, failed: 0, bytesRead: 500, totalBytes: 1_000, readingDone: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    progress.stop();

    expect(written).toContain("1,000 events/s");
    expect(written).toContain("~10 s left");
  });
});

describe("plain status lines off a terminal", () => {
  async function plainLines(times: readonly number[]): Promise<string[]> {
    let written = "";
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.toString("utf8");
        callback();
      },
    });
    let time = 0;
    const progress = await createProgress({ stream, enabled: false, dryRun: false, now: () => time, plainLineIntervalMs: 30_000 });
    for (const at of times) {
      time = at;
      progress.update({ ...snapshot, eventsRead: at, bytesRead: 250 });
    }
    progress.stop();
    time = 200_000;
    progress.update(snapshot);
    return written.split("\n").filter((line) => line !== "");
  }

  test("one line every 30 s", async () => {
    const lines = await plainLines([0, 10_000, 29_999, 30_000, 45_000, 60_000]);

    expect(lines).toEqual([
      "progress (30 s): 30,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · 1,000 events/s · 25% read · ~1 min 30 s left",
      "progress (1 min 0 s): 60,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · 1,000 events/s · 25% read · ~3 min 0 s left",
    ]);
  });

  test("short run prints none", async () => {
    expect(await plainLines([0, 10_000, 29_000])).toEqual([]);
  });

  test("short send to a pipe prints none", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("progress (");
  });
});

describe("progress line is shown only where it helps", () => {
  const terminal = { isTTY: true, columns: 120 };
  test.each([
    ["terminal", terminal, {}, { quiet: false, progress: true }, true],
    ["pipe", { isTTY: false }, {}, { quiet: false, progress: true }, false],
    ["CI=true", terminal, { CI: "true" }, { quiet: false, progress: true }, false],
    ["CI=1", terminal, { CI: "1" }, { quiet: false, progress: true }, false],
    ["CI=false", terminal, { CI: "false" }, { quiet: false, progress: true }, true],
    ["--quiet", terminal, {}, { quiet: true, progress: true }, false],
    ["--no-progress", terminal, {}, { quiet: false, progress: false }, false],
    ["TERM=dumb", terminal, { TERM: "dumb" }, { quiet: false, progress: true }, false],
    ["terminal of 0 columns", { isTTY: true, columns: 0 }, {}, { quiet: false, progress: true }, false],
  ])("%s", (_name, stream, env, options, expected) => {
    expect(shouldShowProgress(stream, env, options)).toBe(expected);
  });

  test("send --help names every case", async () => {
    const help = (await runCli(["send", "--help"], { env: { COLUMNS: "80" } })).stdout.replace(/\s+/g, " ");

    expect(help).toContain("with TERM=dumb");
    expect(help).toContain("a terminal that reports a width of 0 columns");
    expect(help).toContain("stty cols 100");
  });
});

/** Writes `count` track events with an email, one JSON line each, into a new directory. */
function writeTrackEvents(count: number): { directory: string; path: string } {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-progress-"));
  const events = Array.from({ length: count }, (_, index) =>
    JSON.stringify({ type: "track", event: "A", messageId: `p-${index}`, timestamp: "2024-01-01T00:00:00Z", userId: `u-${index}`, context: { traits: { email: `u${index}@example.com` } } }),
  );
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${events.join("\n")}\n`);
  return { directory, path };
}

describe("send progress while deliveries remain", () => {
  let emulator: KoalaEmulator | undefined;
  beforeAll(async () => {
    // Every response is delayed by 60 ms and one request is in flight at a time, so 40 entries take
    // about 2.4 s to deliver after the input, which is read at once.
    emulator = await startKoalaEmulator({ publicKey: "pk_progress_0123", faults: { slowRate: 1, slowDelayMs: 60 } });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  function sendSlowly(columns: number): ReturnType<typeof runInTerminal> {
    const { directory, path } = writeTrackEvents(40);
    return runInTerminal(
      ["send", "--no-stitch", "--max-batch-size", "1", "--concurrency", "1", "--endpoint", emulator?.url ?? "", "--state", join(directory, "state.json"), path],
      { env: { KOALA_PUBLIC_KEY: "pk_progress_0123" }, columns },
    );
  }

  test("shows delivery, not a time left to read", async () => {
    // Wide enough for every part of the line.
    const result = await sendSlowly(200);

    expect(result.status).toBe(0);
    expect(result.output).toMatch(/40 events read · \d+ sent · 0 skipped · 0 problems · input read · \d+ sent\/s/);
    expect(result.output).toMatch(/\d+ left to deliver/);
    expect(result.output).toMatch(/1 request in flight/);
    // Once the input is read, a time left can only be the delivery's, next to the entries left.
    expect(result.output).not.toMatch(/input read(?:(?!left to deliver)[^\u001b])*s left/);
    expect(result.output).not.toContain("100%");
  });

  test("20 columns: entries sent, not input read", async () => {
    const result = await sendSlowly(20);
    const drawn = result.output.replace(/\u001b\[[0-9;]*m/g, "").split(new RegExp(`${ANSI_ESCAPE.source}|\\r|\\n`));

    expect(result.status).toBe(0);
    expect(drawn.some((piece) => /^. \d+ sent$/.test(piece))).toBe(true);
    expect(result.output).not.toContain("input read");
  });

  test("80 columns: the line fits", async () => {
    const result = await sendSlowly(80);
    const lines = progressLines(result.output);

    expect(result.status).toBe(0);
    expect(lines.some((line) => line.includes("input read"))).toBe(true);
    for (const line of lines) {
      // One column stays free after the spinner's frame, its space and the text.
      expect(columnsOf(line), line).toBeLessThanOrEqual(79);
    }
  });
});

interface ShownProgress {
  eventsRead: number;
  allBytesRead: boolean;
  text: string;
}

/** Replays `count` events in a dry run and returns the progress line of each report. */
async function replayProgress(count: number, signal?: AbortSignal): Promise<ShownProgress[]> {
  const { directory, path } = writeTrackEvents(count);
  const reports: ShownProgress[] = [];
  try {
    await runReplay(
      dryRunSettings(path),
      {
        stdout: discardingOutput(),
        warn: () => {},
        signal,
        onProgress: (progress) => {
          reports.push({ eventsRead: progress.eventsRead, allBytesRead: progress.bytesRead === progress.totalBytes, text: formatProgressText(progress, 0, true) });
        },
      },
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return reports;
}

describe("progress stages of a run", () => {
  test("small input: read after its events", async () => {
    const reports = await replayProgress(40);

    // A report comes once the whole file is read into one chunk, before its events are.
    const beforeEvents = reports.find((report) => report.eventsRead === 0 && report.allBytesRead);
    expect(beforeEvents?.text).toBe("0 events read · 0 printed · 0 skipped · 0 problems");
    expect(reports.at(-1)?.text).toContain("input read");
    for (const { eventsRead, text } of reports.filter((report) => report.text.includes("input read"))) {
      expect(eventsRead, text).toBe(40);
    }
  });

  test("interrupted run: input never read", async () => {
    const controller = new AbortController();
    controller.abort();
    const reports = await replayProgress(40, controller.signal);

    expect(reports.length).toBeGreaterThan(0);
    for (const { text } of reports) {
      expect(text).not.toContain("input read");
    }
  });
});

describe("narrow terminal", () => {
  test("40 columns: phase and counts fit", async () => {
    const { directory, path } = writeTrackEvents(40);
    const result = await runInTerminal(["send", "--dry-run", path], { redirectStdout: "/dev/null", columns: 40 });
    rmSync(directory, { recursive: true, force: true });
    const lines = progressLines(result.output);

    expect(result.status).toBe(0);
    expect(lines.some((line) => line.includes("first pass"))).toBe(true);
    for (const line of lines) {
      expect(columnsOf(line), line).toBeLessThanOrEqual(39);
    }
  });
});

describe("send progress on a real run", () => {
  // Large enough that the run lasts several redraw intervals on a fast machine.
  let archive: { path: string; remove: () => void };
  beforeAll(() => {
    archive = writeGeneratedArchive(60_000, ["{not json"]);
  });
  afterAll(() => archive.remove());

  test("spinner never writes to a pipe", async () => {
    const result = await runCli(["send", "--dry-run", archive.path]);

    expect(result.stderr).not.toContain("events read ·");
    expect(result.stderr).not.toMatch(/\u001b\[/);
    expect(result.stderr).toContain("koala-replay: 60,000 entries would be sent");
  });

  test("spinner shows counts on a terminal", async () => {
    const result = await runInTerminal(["send", "--dry-run", archive.path], { redirectStdout: "/dev/null" });

    expect(result.status).toBe(1);
    expect(result.output).toMatch(/[\d,]+ events read · [\d,]+ printed · [\d,]+ skipped · [\d,]+ problems/);
    expect(result.output).toMatch(/\d+%/);
    expect(result.output).toContain("first pass: collecting emails from identify calls and aliases…");
    expect(result.output).toContain("koala-replay: 60,000 entries would be sent");
  });

  test("warning starts on a line of its own", async () => {
    const result = await runInTerminal(["send", "--dry-run", archive.path], { redirectStdout: "/dev/null" });

    expect(result.output).toContain("warning:");
    // The spinner's line is cleared (ESC [0K erases it; ESC [?25h shows the cursor again) right before the warning.
    expect(result.output).toMatch(/\u001b\[0K(\u001b\[\?25h)?warning: \S+generated\.jsonl:2: invalid JSON/);
  });

  test("spinner stays off when dry-run requests go to the terminal", async () => {
    const result = await runInTerminal(["send", "--dry-run", archive.path]);

    expect(result.output).toContain('"method":"POST"');
    expect(result.output).not.toContain("events read ·");
  });

  test("spinner stays off in CI", async () => {
    const result = await runInTerminal(["send", "--dry-run", archive.path], { redirectStdout: "/dev/null", env: { CI: "true" } });

    expect(result.output).not.toContain("events read ·");
    expect(result.output).toContain("koala-replay: 60,000 entries would be sent");
  });

  test("--quiet prints nothing on a terminal", async () => {
    const result = await runInTerminal(["send", "--dry-run", "--quiet", archive.path], { redirectStdout: "/dev/null" });

    expect(result.output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").trim()).toBe("");
  });
});
