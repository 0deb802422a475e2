import type { SegmentEvent } from "../../src/inputs/record.js";
import type { SourceLibrary } from "./context.js";
import { buildEngageIdentify } from "./engage.js";
import { buildEvent, type EventType } from "./events.js";
import { SeededRandom } from "./random.js";
import { userAt, type SyntheticUser } from "./users.js";

export interface ArchiveShape {
  /** Number of lines, duplicates included. */
  events: number;
  /** Size of the user population. Active users are drawn with a skew, so a few users send most events. */
  users: number;
  seed: number;
}

/** Share of lines that repeat a recent line verbatim, as Segment's at-least-once delivery does. */
const duplicateRate = 0.003;
/** Mean gap between two events: 1 million events span about a month. */
const meanGapMs = 2_600;
const firstReceivedAt = Date.UTC(2024, 2, 1);

const typeWeights: readonly (readonly [EventType, number])[] = [
  ["track", 82],
  ["page", 9],
  ["screen", 3],
  ["identify", 2.5],
  ["group", 2],
  ["alias", 1.5],
];

/**
 * Yields the lines of an archive (JSON without the newline), with keys sorted as in Segment's S3
 * objects. The first event of each user is an identify call that carries the user's email.
 * Memory stays constant: users are rebuilt from the seed, and only one byte per user is kept.
 */
export function* archiveLines(shape: ArchiveShape): Generator<string> {
  checkShape(shape);
  const random = new SeededRandom(shape.seed);
  const identified = new Uint8Array(shape.users);
  const recentLines: string[] = [];
  const projectId = `src${random.hex(19)}`;
  let receivedAt = firstReceivedAt;

  for (let i = 0; i < shape.events; i++) {
    receivedAt += random.integer(0, 2 * meanGapMs);
    if (recentLines.length > 0 && random.chance(duplicateRate)) {
      yield random.pick(recentLines);
      continue;
    }
    const user = userAt(shape.seed, activeUserIndex(random, shape.users));
    const event = nextEvent(random, user, identified, receivedAt, projectId);
    const line = JSON.stringify(withSortedKeys(event));
    if (recentLines.length < 64) recentLines.push(line);
    else recentLines[random.integer(0, 63)] = line;
    yield line;
  }
}

function nextEvent(random: SeededRandom, user: SyntheticUser, identified: Uint8Array, receivedAt: number, projectId: string): SegmentEvent {
  const library = pickLibrary(random, user);
  const firstEvent = identified[user.index] === 0;
  identified[user.index] = 1;
  let type: EventType = firstEvent ? "identify" : random.weighted(typeWeights);
  if (type === "screen" && library !== "mobile") type = "page";
  if (type === "identify" && !firstEvent && random.chance(0.3)) return buildEngageIdentify(random, user, receivedAt);
  return buildEvent(random, { type, library, user, time: { receivedAt }, projectId });
}

function pickLibrary(random: SeededRandom, user: SyntheticUser): SourceLibrary {
  const roll = random.nextFloat();
  if (user.device !== null && roll < 0.4) return "mobile";
  return roll < 0.5 ? "browser" : "server";
}

/** Draws a user with a skew towards low indices, so that activity is uneven as in real products. */
function activeUserIndex(random: SeededRandom, users: number): number {
  return Math.min(users - 1, Math.floor(users * random.nextFloat() ** 1.6));
}

/** Copies a JSON value with the keys of every object in sorted order. */
export function withSortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSortedKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry !== undefined) sorted[key] = withSortedKeys(entry);
  }
  return sorted;
}

function checkShape(shape: ArchiveShape): void {
  if (!Number.isSafeInteger(shape.events) || shape.events < 0) {
    throw new Error(`events must be a whole number ≥ 0, got ${String(shape.events)}`);
  }
  if (!Number.isSafeInteger(shape.users) || shape.users < 1) {
    throw new Error(`users must be a whole number ≥ 1, got ${String(shape.users)}`);
  }
  if (!Number.isSafeInteger(shape.seed)) {
    throw new Error(`seed must be a whole number, got ${String(shape.seed)}`);
  }
}
