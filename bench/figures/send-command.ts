import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Figure, MeasureFigures } from "../figure.js";
import { LATENCY_SCENARIOS, type LatencyScenario, postEachBody, withEmulatorProcess } from "../measure/emulator-process.js";
import { assertSucceeded, measureProcess } from "../measure/process.js";
import { repositoryRoot } from "../paths.js";

const PUBLIC_KEY = "pk_bench_send_0123456789";
const CONCURRENCY = 8;
/** Events of the sample written to the archive that is sent. About two thirds become entries. */
const ARCHIVE_EVENTS = 5_000;

const koalaReplayBin = join(repositoryRoot, "bin", "koala-replay.js");

/**
 * Measures `koala-replay send` as a user runs it, from the archive file to the emulator's responses:
 * start-up, reading, mapping, batching, checkpoints and the requests. The baseline sends the same
 * entries one request per event, 8 in flight, from bodies built before its clock starts, so it pays
 * for none of koala-replay's reading and mapping.
 */
export const measure: MeasureFigures = async (context) => {
  const folder = mkdtempSync(join(tmpdir(), "koala-replay-bench-send-"));
  try {
    const archive = join(folder, "archive.jsonl");
    const lines = context.events.slice(0, ARCHIVE_EVENTS).map((event) => JSON.stringify(event));
    writeFileSync(archive, `${lines.join("\n")}\n`);
    const singleBodies = await oneEntryBodies(archive, folder);
    if (singleBodies.length === 0) throw new Error("the archive gives no entry to send");

    const figures: Figure[] = [];
    for (const scenario of LATENCY_SCENARIOS) {
      const sent = await measureSendCommand(archive, folder, scenario);
      const baseline = await measureOneRequestPerEntry(singleBodies, scenario);
      figures.push(
        {
          id: `send-command.${scenario.id}.events-per-second`,
          label: `koala-replay send, ${sent.entries} entries from ${lines.length} events (${scenario.label})`,
          unit: "entries/s",
          koalaReplay: sent.entriesPerSecond,
          baseline: baseline.entriesPerSecond,
          baselineLabel: `the same entries, one request each, ${CONCURRENCY} in flight, bodies built in advance`,
          higherIsBetter: true,
        },
        {
          id: `send-command.${scenario.id}.entries-per-request`,
          label: `koala-replay send, entries per request (${scenario.label})`,
          unit: "entries/request",
          koalaReplay: sent.entriesPerRequest,
          baseline: 1,
          baselineLabel: "one request per entry",
          higherIsBetter: true,
        },
      );
    }
    return figures;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
};

interface SendMeasurement {
  entries: number;
  entriesPerSecond: number;
  entriesPerRequest: number;
}

/** Runs the built CLI against an emulator process and checks that the emulator got every entry once. */
async function measureSendCommand(archive: string, folder: string, scenario: LatencyScenario): Promise<SendMeasurement> {
  const report = join(folder, `report-${scenario.id}.json`);
  const { result: measurement, counts } = await withEmulatorProcess(PUBLIC_KEY, scenario.latencyMs, (url) =>
    measureProcess({
      command: process.execPath,
      args: [koalaReplayBin, "send", archive, "--endpoint", url, "--public-key", PUBLIC_KEY, "--state", join(folder, `state-${scenario.id}.json`), "--report", report, "--quiet"],
      cwd: folder,
    }),
  );
  assertSucceeded("koala-replay send", measurement);
  const { counts: runCounts } = JSON.parse(readFileSync(report, "utf8")) as { counts: { entriesSent: number; requestsSent: number } };
  if (counts.acceptedEntries !== runCounts.entriesSent || counts.receivedAgain !== 0) {
    throw new Error(`koala-replay sent ${runCounts.entriesSent} entries; the emulator accepted ${counts.acceptedEntries} and received ${counts.receivedAgain} again`);
  }
  return {
    entries: runCounts.entriesSent,
    entriesPerSecond: runCounts.entriesSent / (measurement.wallMs / 1000),
    entriesPerRequest: runCounts.entriesSent / runCounts.requestsSent,
  };
}

/**
 * Returns the requests a dry run of the archive prints, split into one body per entry: each keeps its
 * request's person fields (`profile_id`, `email`, `traits`, `ip`) and contains one event or identify.
 */
async function oneEntryBodies(archive: string, folder: string): Promise<string[]> {
  const output = join(folder, "dry-run.ndjson");
  const measurement = await measureProcess({
    command: process.execPath,
    args: [koalaReplayBin, "send", "--dry-run", archive, "--public-key", PUBLIC_KEY, "--state", join(folder, "state-dry-run.json"), "--quiet"],
    cwd: folder,
    stdoutFile: output,
  });
  assertSucceeded("koala-replay send --dry-run", measurement);
  const bodies: string[] = [];
  for (const line of readFileSync(output, "utf8").split("\n")) {
    if (line === "") continue;
    const { body } = JSON.parse(line) as { body: Record<string, unknown> };
    const { events = [], identifies = [], ...person } = body as { events?: unknown[]; identifies?: unknown[] };
    for (const event of events) bodies.push(JSON.stringify({ ...person, events: [event] }));
    for (const identify of identifies) bodies.push(JSON.stringify({ ...person, identifies: [identify] }));
  }
  return bodies;
}

/** Posts each body on its own, `CONCURRENCY` at a time, as Segment's destination sends one event per request. */
async function measureOneRequestPerEntry(bodies: readonly string[], scenario: LatencyScenario): Promise<{ entriesPerSecond: number }> {
  const { result: seconds, counts } = await withEmulatorProcess(PUBLIC_KEY, scenario.latencyMs, (url) => postEachBody(url, PUBLIC_KEY, bodies, CONCURRENCY));
  if (counts.acceptedEntries !== bodies.length) {
    throw new Error(`the baseline sent ${bodies.length} entries; the emulator accepted ${counts.acceptedEntries}`);
  }
  return { entriesPerSecond: bodies.length / seconds };
}
