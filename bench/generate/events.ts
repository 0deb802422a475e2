import type { SegmentEvent } from "../../src/inputs/record.js";
import { browserContext, mobileContext, serverContext, type SourceLibrary } from "./context.js";
import { trackProperties } from "./properties.js";
import type { SeededRandom } from "./random.js";
import type { SyntheticUser } from "./users.js";
import { pages, trackEventNames } from "./vocabulary.js";

export type EventType = "track" | "identify" | "page" | "screen" | "group" | "alias";

/** When an event happened and reached Segment, in epoch milliseconds. */
export interface EventTime {
  receivedAt: number;
}

export interface EventRequest {
  type: EventType;
  library: SourceLibrary;
  user: SyntheticUser;
  time: EventTime;
  projectId: string;
}

/** Builds one event with the fields an S3 archive line carries for that type and library. */
export function buildEvent(random: SeededRandom, request: EventRequest): SegmentEvent {
  const event = commonFields(random, request);
  const { type, user } = request;
  switch (type) {
    case "track":
      addTrackFields(random, event, user);
      return event;
    case "identify":
      event["traits"] = identifyTraits(random, user);
      return event;
    case "page":
      addPageFields(random, event);
      return event;
    case "screen":
      event["name"] = random.pick(["Home", "Settings", "Report", "Inbox", "Paywall"]);
      event["properties"] = { orientation: random.pick(["portrait", "landscape"]) };
      return event;
    case "group":
      event["groupId"] = `grp_${user.company.domain.split(".")[0] ?? "acme"}`;
      event["traits"] = { employees: user.company.employees, industry: user.company.industry, name: user.company.name, plan: user.plan };
      return event;
    case "alias":
      event["previousId"] = user.anonymousId;
      return event;
    default:
      return assertNever(type);
  }
}

function commonFields(random: SeededRandom, request: EventRequest): SegmentEvent {
  const { library, user, time } = request;
  const withTraits = request.type === "track" && contextTraitsChance(library) > random.nextFloat();
  const context = contextFor(random, library, user, withTraits);
  const clientDelay = library === "mobile" && random.chance(0.05) ? random.integer(60_000, 7_200_000) : random.integer(2, 900);
  const clockSkew = random.integer(-400, 400);
  const sentAt = time.receivedAt - random.integer(20, 300) + clockSkew;
  const originalTimestamp = sentAt - clientDelay;
  const timestamp = time.receivedAt - (sentAt - originalTimestamp);

  const event: SegmentEvent = {
    channel: library === "browser" ? "client" : library,
    context,
    integrations: random.chance(0.1) ? { All: false, "Google Analytics": false, Salesforce: true } : {},
    messageId: messageIdFor(random, library, time.receivedAt),
    originalTimestamp: new Date(originalTimestamp).toISOString(),
    projectId: request.projectId,
    receivedAt: new Date(time.receivedAt).toISOString(),
    sentAt: sentAtValue(random, library, sentAt),
    timestamp: new Date(timestamp).toISOString(),
    type: request.type,
    version: random.chance(0.06) ? "1.1" : 2,
  };
  // Only analytics.js bundles device-mode destinations, so only its events carry `_metadata`.
  if (library === "browser") event["_metadata"] = { bundled: ["Segment.io"], bundledIds: [], unbundled: [] };
  if (library !== "server") event["anonymousId"] = library === "mobile" ? user.deviceId : user.anonymousId;
  // analytics.js sends userId only once the visitor has signed in, and null before.
  if (library !== "browser" || random.chance(0.6)) event["userId"] = user.userId;
  else if (random.chance(0.3)) event["userId"] = null;
  return event;
}

/** Returns the probability that a track event carries the user's traits (and so an email) in its context. */
function contextTraitsChance(library: SourceLibrary): number {
  switch (library) {
    case "browser":
      return 0.05;
    case "server":
      return 0.65;
    case "mobile":
      return 0.5;
    default:
      return assertNever(library);
  }
}

function contextFor(random: SeededRandom, library: SourceLibrary, user: SyntheticUser, withTraits: boolean): Record<string, unknown> {
  switch (library) {
    case "browser":
      return browserContext(random, user, withTraits);
    case "server":
      return serverContext(random, user, withTraits);
    case "mobile":
      return mobileContext(random, user, withTraits);
    default:
      return assertNever(library);
  }
}

function messageIdFor(random: SeededRandom, library: SourceLibrary, receivedAt: number): string {
  switch (library) {
    case "browser":
      return random.chance(0.8) ? `ajs-next-${random.hex(32)}` : `ajs-${random.hex(32)}`;
    case "server":
      return `node-next-${receivedAt}-${random.uuid()}`;
    case "mobile":
      return random.uuid().toUpperCase();
    default:
      return assertNever(library);
  }
}

/** `sentAt` is a timestamp on most lines, null on some, and absent from a few server events. */
function sentAtValue(random: SeededRandom, library: SourceLibrary, sentAt: number): string | null | undefined {
  const roll = random.nextFloat();
  if (roll < 0.02) return null;
  if (roll < 0.05 && library === "server") return undefined;
  return new Date(sentAt).toISOString();
}

function addTrackFields(random: SeededRandom, event: SegmentEvent, user: SyntheticUser): void {
  const eventName = random.weighted(trackEventNames);
  const properties = trackProperties(random, eventName, user);
  if (random.chance(0.08)) properties["email"] = user.email;
  if (random.chance(0.03)) properties["profile_id"] = user.anonymousId;
  event["event"] = eventName;
  event["properties"] = properties;
}

function identifyTraits(random: SeededRandom, user: SyntheticUser): Record<string, unknown> {
  const traits: Record<string, unknown> = {
    company: { employees: user.company.employees, name: user.company.name },
    createdAt: user.createdAt,
    firstName: user.firstName,
    lastName: user.lastName,
    logins: random.integer(1, 400),
    plan: user.plan,
  };
  // A few identify calls happen before the user has given an email.
  if (random.chance(0.95)) traits["email"] = user.email;
  return traits;
}

function addPageFields(random: SeededRandom, event: SegmentEvent): void {
  const page = random.pick(pages);
  event["name"] = page.title;
  event["properties"] = { path: page.path, referrer: "", search: "", title: page.title, url: `https://acme.example.com${page.path}` };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}
