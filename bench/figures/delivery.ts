import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { buildBatchBody } from "../../src/delivery/body.js";
import type { KoalaEntry, PersonFields } from "../../src/delivery/entry.js";
import { createDelivery } from "../../src/delivery/index.js";
import type { SegmentEvent } from "../../src/inputs/record.js";
import type { Figure, MeasureFigures } from "../figure.js";
import { type EmulatorCounts, LATENCY_SCENARIOS, type LatencyScenario, postEachBody, withEmulatorProcess } from "../measure/emulator-process.js";

const PUBLIC_KEY = "pk_bench_0123456789abcdef";
const USER_AGENT = "koala-replay/bench";
const CONCURRENCY = 8;
/** Entries sent by koala-replay per scenario; the sample is repeated with new message ids to reach it. */
const BATCHED_ENTRIES = 20_000;
/** Entries sent one per request by the baseline, which is slower, so it gets a smaller share. */
const BASELINE_ENTRIES = 2_000;
const WARM_UP_ENTRIES = 1_000;

/**
 * Measures delivery throughput against the local Koala emulator: koala-replay's per-person batching
 * beside one request per event (what Segment's destination does), both with 8 requests in flight.
 * The emulator runs in a process of its own, as Koala would, so that building its responses does not
 * take the sender's CPU.
 */
export const measure: MeasureFigures = async (context) => {
  const sample = entriesFromEvents(context.events);
  if (sample.length === 0) {
    throw new Error("the sample has no track or identify event to map");
  }
  const figures: Figure[] = [];
  // A short unmeasured round of each, so JIT compilation does not fall into the first measurement.
  await measureBatched(repeatEntries(sample, WARM_UP_ENTRIES, "warm-up-batched"), LATENCY_SCENARIOS[0] as LatencyScenario);
  await measureOnePerEvent(repeatEntries(sample, WARM_UP_ENTRIES, "warm-up-single"), LATENCY_SCENARIOS[0] as LatencyScenario);
  for (const scenario of LATENCY_SCENARIOS) {
    const batched = await measureBatched(repeatEntries(sample, BATCHED_ENTRIES, "batched"), scenario);
    const baseline = await measureOnePerEvent(repeatEntries(sample, BASELINE_ENTRIES, "single"), scenario);
    figures.push(
      {
        id: `delivery.${scenario.id}.events-per-second`,
        label: `Delivery throughput (${scenario.label})`,
        unit: "events/s",
        koalaReplay: batched.eventsPerSecond,
        baseline: baseline.eventsPerSecond,
        baselineLabel: `one request per event, ${CONCURRENCY} in flight`,
        higherIsBetter: true,
      },
      {
        id: `delivery.${scenario.id}.entries-per-request`,
        label: `Entries per request (${scenario.label})`,
        unit: "entries/request",
        koalaReplay: batched.entriesPerRequest,
        baseline: 1,
        baselineLabel: "one request per event",
        higherIsBetter: true,
      },
    );
  }
  return figures;
};

interface Measured {
  eventsPerSecond: number;
  entriesPerRequest: number;
}

async function measureBatched(entries: readonly KoalaEntry[], scenario: LatencyScenario): Promise<Measured> {
  const folder = mkdtempSync(join(tmpdir(), "koala-replay-bench-"));
  try {
    const { result, counts } = await withEmulatorProcess(PUBLIC_KEY, scenario.latencyMs, async (url) => {
      const delivery = createDelivery({
        endpoint: url,
        publicKey: PUBLIC_KEY,
        dryRun: false,
        output: discardingStream(),
        userAgent: USER_AGENT,
        concurrency: CONCURRENCY,
        resume: false,
        inputs: [],
        // The checkpoint is part of a real run's cost, so it is written, to a folder removed afterwards.
        cwd: folder,
      });
      const startedAt = performance.now();
      for (const entry of entries) {
        await delivery.submit(entry.origin, [entry]);
      }
      const finished = await delivery.finish();
      return { seconds: (performance.now() - startedAt) / 1000, entriesPerRequest: finished.entriesPerRequest.mean };
    });
    checkAccepted(counts, entries.length);
    return { eventsPerSecond: entries.length / result.seconds, entriesPerRequest: result.entriesPerRequest };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function measureOnePerEvent(entries: readonly KoalaEntry[], scenario: LatencyScenario): Promise<Measured> {
  const bodies = entries.map((entry) => buildBatchBody(entry.personKey, [entry]));
  const { result: seconds, counts } = await withEmulatorProcess(PUBLIC_KEY, scenario.latencyMs, (url) => postEachBody(url, PUBLIC_KEY, bodies, CONCURRENCY));
  checkAccepted(counts, entries.length);
  return { eventsPerSecond: entries.length / seconds, entriesPerRequest: 1 };
}

function checkAccepted(counts: EmulatorCounts, expected: number): void {
  if (counts.acceptedEntries !== expected) {
    throw new Error(`the emulator accepted ${counts.acceptedEntries} entries, expected ${expected}`);
  }
}

/**
 * Maps track and identify events roughly as the presets do. The person's email comes from the
 * traits or the event. Many archives carry no email, so an event without one gets
 * `<userId or anonymousId>@example.com`, because the bench needs a person for every event.
 */
function entriesFromEvents(events: readonly SegmentEvent[]): KoalaEntry[] {
  const entries: KoalaEntry[] = [];
  events.forEach((event, index) => {
    if (event.type !== "track" && event.type !== "identify") {
      return;
    }
    const kind = event.type === "track" ? "events" : "identifies";
    const context = asObject(event.context);
    const traits = kind === "events" ? asObject(context.traits) : asObject(event.traits);
    const email = pickString(traits.email, event.email, asObject(event.properties).email) ?? `${String(event.userId ?? event.anonymousId ?? index)}@example.com`;
    const person: PersonFields = { email, traits, ip: pickString(context.ip) };
    const messageId = pickString(event.messageId) ?? `bench-${index}`;
    const body =
      kind === "events"
        ? { type: "track", email, event: event.event, properties: event.properties, sent_at: event.timestamp, context, traits, device_ip: context.ip, message_id: messageId }
        : { type: "identify", email, traits, sent_at: event.timestamp, context: { ...context, source: "segment-cloud" }, device_ip: context.ip, message_id: messageId };
    entries.push({
      kind,
      person,
      personKey: JSON.stringify({ profile_id: undefined, email, traits, ip: person.ip }),
      entryJson: JSON.stringify(body),
      messageId,
      mappingName: kind === "events" ? "Track Event" : "Identify Visitor",
      origin: { input: "bench.jsonl", line: index + 1 },
      eventJson: JSON.stringify(event),
    });
  });
  return entries;
}

/** Repeats the sample until `count` entries, giving each copy its own message id and line. */
function repeatEntries(sample: readonly KoalaEntry[], count: number, prefix: string): KoalaEntry[] {
  const entries: KoalaEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const source = sample[index % sample.length] as KoalaEntry;
    const messageId = `${prefix}-${index}-${source.messageId}`;
    entries.push({
      ...source,
      messageId,
      entryJson: source.entryJson.replace(`"message_id":${JSON.stringify(source.messageId)}`, `"message_id":${JSON.stringify(messageId)}`),
      origin: { input: "bench.jsonl", line: index + 1 },
    });
  }
  return entries;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function pickString(...values: unknown[]): string | undefined {
  for (const value of values) {
    if (typeof value === "string" && value.length > 0) {
      return value;
    }
  }
  return undefined;
}

function discardingStream(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
