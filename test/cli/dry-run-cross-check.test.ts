import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { deriveMessageId } from "../../src/inputs/message-id.js";
import type { ActionId } from "../../src/koala/fields.js";
import { presetMappings } from "../../src/koala/presets.js";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { actionsCore, segmentPreparePayload } from "../mappings/segment-reference.js";
import { SeededRandom } from "../triggers/support/random.js";

// Random events through the two presets: the built binary's dry run against what Segment's Koala
// (Cloud) destination would send, computed with Segment's packages. The events mix valid and
// invalid fields, null and empty values, and browser events. So the test compares every step
// between the trigger and the request body: the mapping, the payload checks and the identity rules.
// With batching on, it also checks that a request carries exactly the entries of its events.

const require = createRequire(import.meta.url);
const subscriptions = require("@segment/destination-subscriptions") as {
  parseFql(text: string): unknown;
  validate(ast: unknown, event: unknown): boolean;
};

type Payload = Record<string, unknown>;

const directory = mkdtempSync(join(tmpdir(), "koala-dry-run-cross-check-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const emails = ["ann@example.com", "bob@example.com", undefined, null, "", 5, true, ["c@example.com"], { at: "x" }];
const profileIds = [undefined, null, "", "0b5e6f2c-4d1a-4c4b-9a2e-0d6c1f2a3b4c", 0, 7, false, "p-1"];
const ips = [undefined, null, "", "203.0.113.9", 42, ["198.51.100.1"]];
const timestamps = ["2024-03-01T10:00:00.000Z", "2024-03-01T10:00:00+02:00", undefined, null, "", "2024-03-01", "not a date", 1709287200000, "2024-02-30T00:00:00Z"];
const names = ["Order Completed", "Ünïcödé 😀", undefined, null, "", 12, true];
const libraries = [undefined, "analytics.js", "analytics-node", ""];

/** Picks one of the first `common` values most of the time, so that most events are valid. */
function pickMostly<T>(random: SeededRandom, values: readonly T[], common: number): T {
  return random.chance(0.8) ? random.pick(values.slice(0, common)) : random.pick(values);
}

function maybeSet(target: Payload, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function randomBag(random: SeededRandom, withIdentity: "profile" | "none"): Payload | unknown {
  const roll = random.integer(40);
  if (roll === 0) return null;
  if (roll === 1) return "text";
  if (roll === 2) return ["list"];
  const bag: Payload = {};
  maybeSet(bag, "email", pickMostly(random, emails, 3));
  if (withIdentity === "profile") maybeSet(bag, "profile_id", random.pick(profileIds));
  maybeSet(bag, "ip", random.pick(ips));
  maybeSet(bag, "plan", random.pick([undefined, null, "", "pro", 3]));
  if (random.chance(0.2)) bag["nested"] = { a: null, b: "", c: [null, ""] };
  return bag;
}

function randomEvent(random: SeededRandom, index: number): Payload {
  const event: Payload = { messageId: `m-${index}` };
  maybeSet(event, "type", random.pick(["track", "track", "identify", "identify", "page", "Track", undefined]));
  maybeSet(event, "event", pickMostly(random, names, 2));
  maybeSet(event, "timestamp", pickMostly(random, timestamps, 2));
  maybeSet(event, "email", pickMostly(random, emails, 3));
  if (random.chance(0.1)) event["messageId"] = random.pick([null, "", index]);
  if (random.chance(0.8)) event["properties"] = randomBag(random, "profile");
  if (random.chance(0.7)) event["traits"] = randomBag(random, "profile");
  if (random.chance(0.8)) {
    const context: Payload = {};
    maybeSet(context, "ip", random.pick(ips));
    if (random.chance(0.5)) context["traits"] = randomBag(random, "none");
    const library = random.pick(libraries);
    if (library !== undefined) context["library"] = { name: library, version: "1.0.0" };
    if (random.chance(0.1)) context["source"] = "archive";
    event["context"] = random.chance(0.05) ? "not an object" : context;
  }
  return event;
}

const presets = presetMappings().map((preset) => ({ ...preset, ast: subscriptions.parseFql(preset.trigger) }));

/**
 * Builds the body Segment's Koala (Cloud) destination would send for one event, or returns undefined
 * when it sends nothing. The steps are the preset's trigger, `transform`, the runner's removal of
 * empty values and schema validation (actions-core 3.170.0), then the destination's body rules.
 */
function segmentBody(event: Payload, includeBrowserEvents: boolean): Payload | undefined {
  for (const preset of presets) {
    if (!subscriptions.validate(preset.ast, event)) continue;
    if (preset.action === "trackEvent" && !includeBrowserEvents && isBrowserEvent(event)) return undefined;
    const mapped = actionsCore.transform(structuredClone(preset.mapping), structuredClone(event));
    const payload = segmentPreparePayload(preset.action, mapped);
    return payload === undefined ? undefined : bodyFor(preset.action, payload);
  }
  return undefined;
}

/** Tells whether a track event came from analytics.js, which Segment's destination skips. */
function isBrowserEvent(event: Payload): boolean {
  const library = objectOrUndefined(objectOrUndefined(event["context"])?.["library"]);
  return library?.["name"] === "analytics.js";
}

function objectOrUndefined(value: unknown): Payload | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Payload) : undefined;
}

function bodyFor(action: ActionId, payload: Payload): Payload | undefined {
  const traits = objectOrUndefined(payload["traits"]) ?? {};
  let body: Payload;
  if (action === "trackEvent") {
    const properties = objectOrUndefined(payload["properties"]);
    body = {
      profile_id: properties?.["profile_id"],
      email: payload["email"] ?? properties?.["email"] ?? traits["email"],
      traits,
      ip: properties?.["ip"] ?? payload["device_ip"],
      events: [{ type: "track", ...payload }],
    };
  } else {
    body = {
      profile_id: traits["profile_id"],
      email: payload["email"] ?? traits["email"],
      traits,
      ip: traits["ip"] ?? payload["device_ip"],
      identifies: [{ type: "identify", ...payload, context: { ...objectOrUndefined(payload["context"]), source: "segment-cloud" } }],
    };
  }
  if (!body["profile_id"] && !body["email"]) return undefined;
  return JSON.parse(JSON.stringify(body)) as Payload;
}

function messageIdOf(body: Payload): string {
  const entries = (body["events"] ?? body["identifies"]) as Array<{ message_id?: unknown }>;
  return String(entries[0]?.message_id);
}

/**
 * Splits a request body into one body per entry, each with the request's person fields. A batched
 * request may hold both track events and identifies of one person.
 */
function splitEntries(body: Payload): Payload[] {
  const { events, identifies, ...person } = body;
  return [
    ...((events ?? []) as Payload[]).map((entry) => ({ ...person, events: [entry] })),
    ...((identifies ?? []) as Payload[]).map((entry) => ({ ...person, identifies: [entry] })),
  ];
}

/**
 * Returns the event as koala-replay reads it. An event without a messageId gets one derived from its
 * content, so that Koala deduplicates a second replay. Segment would reject such a payload, because
 * message_id is required: this is a deliberate departure.
 */
function withMessageId(event: Payload): Payload {
  const copy = structuredClone(event);
  if (copy["messageId"] === undefined || copy["messageId"] === null || copy["messageId"] === "") copy["messageId"] = deriveMessageId(copy);
  return copy;
}

const random = new SeededRandom(20261205);
const events = Array.from({ length: 1500 }, (_, index) => randomEvent(random, index));
const file = join(directory, "events.jsonl");
writeFileSync(file, events.map((event) => JSON.stringify(event)).join("\n") + "\n");

describe("dry run against Segment's packages", () => {
  it.each([
    ["one entry per request", "include", ["--max-batch-size", "1"]],
    ["batched requests", "include", []],
    ["browser events skipped", "skip", []],
  ])("random events give the same bodies, %s", async (_name, browserEvents, batchOptions) => {
    const result = await runCli(["send", "--dry-run", "--browser-events", browserEvents, "--no-stitch", ...batchOptions, file]);
    // Status 1 means that some events were invalid, which the random events include on purpose.
    expect(result.status, result.stderr).toBe(1);
    const bodies = parseRequests(result.stdout).flatMap((request) => splitEntries(request.body));
    const actual = new Map(bodies.map((body) => [messageIdOf(body), body]));
    expect(actual.size).toBe(bodies.length);

    const problems: string[] = [];
    let sent = 0;
    for (const event of events) {
      const read = withMessageId(event);
      const expected = segmentBody(read, browserEvents === "include");
      const id = String(read["messageId"]);
      const body = actual.get(id);
      actual.delete(id);
      if (expected !== undefined) sent++;
      if (isDeepStrictEqual(body, expected)) continue;
      problems.push(`event:    ${JSON.stringify(event)}\nexpected: ${JSON.stringify(expected)}\nactual:   ${JSON.stringify(body)}`);
    }
    expect(problems.slice(0, 5).join("\n\n"), `${problems.length} events differ`).toBe("");
    expect([...actual.keys()], "bodies without an event").toEqual([]);
    expect(sent).toBeGreaterThan(300);
  });
});
