import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Figure, MeasureFigures } from "../figure.js";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { IdentityGraph } from "../../src/identity/index.js";

/*
 * Identity stitching over a generated archive of one million users with four events each, 4,000,000
 * events in all. Each user has a page before login with only the anonymousId, and an identify with
 * userId, anonymousId and traits.email. Then come a browser track with both ids and a server track
 * with the userId only. Ids and
 * emails are derived from the user number, so every run measures the same data.
 *
 * Events are generated in chunks outside the timed loops and dropped after use, so the timings hold
 * only observe/resolve and the memory deltas hold only what the graph or the map retains. Times are
 * the process's CPU time (user + system, from process.cpuUsage), not wall time, because other work
 * on the machine would otherwise inflate them. A full garbage collection before each timed loop keeps
 * the collector's helper threads from charging the cleanup of generated events to the loop.
 */
const USERS = 1_000_000;
const USERS_PER_CHUNK = 100_000;
const MEGABYTE = 1024 * 1024;
/** The spilled graph is measured on fewer users, with nine ids in ten on disk, because each disk access is a system call. */
const SPILL_USERS = 100_000;
const SPILL_MAX_MEMORY_ENTRIES = 20_000;

/** Baseline: what a naive first pass keeps, every id of an email-carrying event mapped to the email. */
class NaiveIdentityMap {
  readonly emails = new Map<string, string>();

  observe(event: SegmentEvent): void {
    const email = (event["traits"] as { email?: string } | undefined)?.email;
    if (email === undefined) return;
    if (typeof event["userId"] === "string") this.emails.set(event["userId"], email);
    if (typeof event["anonymousId"] === "string") this.emails.set(event["anonymousId"], email);
  }

  resolveEmail(event: SegmentEvent): string | undefined {
    const userId = event["userId"];
    const anonymousId = event["anonymousId"];
    return (
      (typeof userId === "string" ? this.emails.get(userId) : undefined) ??
      (typeof anonymousId === "string" ? this.emails.get(anonymousId) : undefined)
    );
  }
}

interface Contender {
  observe(event: SegmentEvent): void;
  resolveEmail(event: SegmentEvent): string | undefined;
}

interface Measurement {
  observeNanosecondsPerEvent: number;
  resolveNanosecondsPerEvent: number;
  retainedMegabytes: number;
  resolvedEvents: number;
}

export const measure: MeasureFigures = async () => {
  const collectGarbage = garbageCollector();

  const graph = new IdentityGraph();
  const ours = measureContender(graph, USERS, collectGarbage);
  const idsStored = graph.stats().ids;
  graph.close();

  const spilledGraph = new IdentityGraph({ maxMemoryEntries: SPILL_MAX_MEMORY_ENTRIES });
  const spilled = measureContender(spilledGraph, SPILL_USERS, collectGarbage);
  const spilledIds = spilledGraph.stats().idsOnDisk;
  spilledGraph.close();
  const unspilledGraph = new IdentityGraph();
  const unspilled = measureContender(unspilledGraph, SPILL_USERS, collectGarbage);
  unspilledGraph.close();

  const baseline = measureContender(new NaiveIdentityMap(), USERS, collectGarbage);
  if (ours.resolvedEvents !== baseline.resolvedEvents) {
    throw new Error(`The graph resolved ${ours.resolvedEvents} events and the Map ${baseline.resolvedEvents}; they must agree on this archive.`);
  }

  const baselineLabel = "Map<string, string> of every id to its email";
  const figures: Figure[] = [
    {
      id: "identity.observe.ns-per-event",
      label: `identity first pass (observe), ${USERS.toLocaleString("en-US")} users, 4 events each`,
      unit: "ns/event",
      koalaReplay: round(ours.observeNanosecondsPerEvent),
      baseline: round(baseline.observeNanosecondsPerEvent),
      baselineLabel,
      higherIsBetter: false,
    },
    {
      id: "identity.resolve.ns-per-event",
      label: "identity lookup (resolveEmail) per event",
      unit: "ns/event",
      koalaReplay: round(ours.resolveNanosecondsPerEvent),
      baseline: round(baseline.resolveNanosecondsPerEvent),
      baselineLabel,
      higherIsBetter: false,
    },
    {
      id: "identity.graph.mb-per-million-users",
      label: `identity graph memory, ${USERS.toLocaleString("en-US")} users (${idsStored.toLocaleString("en-US")} ids)`,
      unit: "MB",
      koalaReplay: round(ours.retainedMegabytes),
      baseline: round(baseline.retainedMegabytes),
      baselineLabel,
      higherIsBetter: false,
    },
    {
      id: "identity.spilled-observe.ns-per-event",
      label: `identity first pass with ${spilledIds.toLocaleString("en-US")} of ${(SPILL_USERS * 2).toLocaleString("en-US")} ids on disk`,
      unit: "ns/event",
      koalaReplay: round(spilled.observeNanosecondsPerEvent),
      baseline: round(unspilled.observeNanosecondsPerEvent),
      baselineLabel: "the same graph in memory",
      higherIsBetter: false,
    },
    {
      id: "identity.spilled-resolve.ns-per-event",
      label: `identity lookup with ${spilledIds.toLocaleString("en-US")} of ${(SPILL_USERS * 2).toLocaleString("en-US")} ids on disk`,
      unit: "ns/event",
      koalaReplay: round(spilled.resolveNanosecondsPerEvent),
      baseline: round(unspilled.resolveNanosecondsPerEvent),
      baselineLabel: "the same graph in memory",
      higherIsBetter: false,
    },
  ];
  return figures;
};

/**
 * Times observe over all events, measures what the contender retains, then times resolveEmail.
 * Memory is the growth of V8's heap plus ArrayBuffer memory (where typed arrays live) from a full
 * garbage collection before the first pass to one after it. The contender is still referenced then,
 * and the generated events are garbage.
 */
function measureContender(contender: Contender, users: number, collectGarbage: () => void): Measurement {
  collectGarbage();
  const before = retainedBytes();

  let observeNanoseconds = 0;
  let events = 0;
  for (let firstUser = 0; firstUser < users; firstUser += USERS_PER_CHUNK) {
    const chunk = generateChunk(firstUser, Math.min(USERS_PER_CHUNK, users - firstUser));
    collectGarbage();
    const started = process.cpuUsage();
    for (const event of chunk) contender.observe(event);
    observeNanoseconds += cpuNanosecondsSince(started);
    events += chunk.length;
  }

  collectGarbage();
  const retainedMegabytes = (retainedBytes() - before) / MEGABYTE;

  let resolveNanoseconds = 0;
  let resolvedEvents = 0;
  for (let firstUser = 0; firstUser < users; firstUser += USERS_PER_CHUNK) {
    const chunk = generateChunk(firstUser, Math.min(USERS_PER_CHUNK, users - firstUser));
    collectGarbage();
    const started = process.cpuUsage();
    for (const event of chunk) {
      if (contender.resolveEmail(event) !== undefined) resolvedEvents++;
    }
    resolveNanoseconds += cpuNanosecondsSince(started);
  }

  return {
    observeNanosecondsPerEvent: observeNanoseconds / events,
    resolveNanosecondsPerEvent: resolveNanoseconds / events,
    retainedMegabytes,
    resolvedEvents,
  };
}

/**
 * Generates the events of `users` users as JSON text and parses it, so that ids and emails are flat
 * strings as in a real run. Strings built by template literals would stay as rope strings and
 * inflate what a Map retains.
 */
function generateChunk(firstUser: number, users: number): SegmentEvent[] {
  const lines: string[] = [];
  for (let user = firstUser; user < firstUser + users; user++) {
    const userId = `usr_${user.toString(36).padStart(8, "0")}`;
    const anonymousId = anonymousIdOf(user);
    const email = `person.${user}@example${user % 97}.com`;
    const time = Date.UTC(2024, 0, 1) + user * 1000;
    const library = `{"name":"analytics.js","version":"next-1.70.0"}`;

    lines.push(
      `{"type":"page","anonymousId":"${anonymousId}","name":"Home","context":{"library":${library}},"timestamp":"${isoTime(time)}"}`,
      `{"type":"identify","userId":"${userId}","anonymousId":"${anonymousId}","traits":{"email":"${email}","plan":"team"},"timestamp":"${isoTime(time + 60_000)}"}`,
      `{"type":"track","userId":"${userId}","anonymousId":"${anonymousId}","event":"Trial Started","properties":{},"timestamp":"${isoTime(time + 120_000)}"}`,
      `{"type":"track","userId":"${userId}","event":"Invoice Paid","properties":{"amount":49},"timestamp":"${isoTime(time + 180_000)}"}`,
    );
  }
  return JSON.parse(`[${lines.join(",")}]`) as SegmentEvent[];
}

function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

/** Derives a UUID-shaped id from the user number, like the anonymousIds of analytics.js. */
function anonymousIdOf(user: number): string {
  let state = Math.imul(user + 1, 0x9e3779b1) >>> 0;
  let hex = "";
  for (let part = 0; part < 4; part++) {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0;
    hex += state.toString(16).padStart(8, "0");
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function cpuNanosecondsSince(started: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(started);
  return (used.user + used.system) * 1000;
}

function retainedBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Returns `global.gc` when Node runs with --expose-gc. Otherwise it turns the flag on at run time
 * and takes `gc` from a fresh context, which V8 supports for this purpose in tests.
 */
function garbageCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;

  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
