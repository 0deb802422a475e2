import { parseTimestamp } from "../triggers/values.js";
import type { SegmentEvent } from "../inputs/record.js";
import { addToTally } from "./tally.js";

/**
 * Distinct values kept per counted field (event names, libraries, types). Archives with generated
 * event names ("Viewed /page/123") would otherwise hold one key per event; values past the limit
 * are counted under OTHER_VALUES.
 */
export const MAX_DISTINCT_VALUES = 10_000;
export const OTHER_VALUES = "(other values)";
export const MISSING_VALUE = "(missing)";

/** Events that carry each identifier; an event is counted once per identifier it has. */
export interface IdentityCoverage {
  email: number;
  userId: number;
  anonymousId: number;
  profileId: number;
  /** Events Koala can attach to a person as they are: with an email or a profile_id. */
  emailOrProfileId: number;
  /** Events with none of the four identifiers. */
  none: number;
}

/** Counts of the events of an archive by type, track event name, library, time and identifier. */
export class EventProfile {
  eventsRead = 0;
  readonly eventsByType = new Map<string, number>();
  /** Names of track events (`event`), the first `MAX_DISTINCT_VALUES` distinct ones. */
  readonly eventNames = new Map<string, number>();
  /** Track events whose `event` is missing, empty or not a string, which are not among `eventNames`. */
  trackEventsWithoutName = 0;
  /**
   * Track events whose name came after the first `MAX_DISTINCT_VALUES` distinct names. They are counted
   * here and not under `OTHER_VALUES`, which an event may be named.
   */
  trackEventsWithUnlistedNames = 0;
  /** `context.library.name`. */
  readonly libraries = new Map<string, number>();
  earliestTimestampMs: number | undefined;
  latestTimestampMs: number | undefined;
  eventsWithoutTimestamp = 0;
  readonly identity: IdentityCoverage = { email: 0, userId: 0, anonymousId: 0, profileId: 0, emailOrProfileId: 0, none: 0 };

  /** Counts one event. `person`, when given, contains the email and profile_id that its entry is sent with. */
  add(event: SegmentEvent, person: Record<string, unknown> | undefined): void {
    this.eventsRead += 1;
    const type = event["type"];
    increment(this.eventsByType, typeof type === "string" ? type : MISSING_VALUE);
    if (type === "track") {
      const name = event["event"];
      if (typeof name !== "string" || name === "") {
        this.trackEventsWithoutName += 1;
      } else if (this.eventNames.has(name) || this.eventNames.size < MAX_DISTINCT_VALUES) {
        this.eventNames.set(name, (this.eventNames.get(name) ?? 0) + 1);
      } else {
        this.trackEventsWithUnlistedNames += 1;
      }
    }
    increment(this.libraries, libraryNameOf(event));
    this.countTimestamp(event["timestamp"]);
    this.countIdentity(event, person);
  }

  private countTimestamp(timestamp: unknown): void {
    // Parsed as --since and --until parse it, because Date.parse reads text such as "not a date 1" as 2001.
    const time = typeof timestamp === "string" ? parseTimestamp(timestamp) : Number.NaN;
    if (!Number.isFinite(time)) {
      this.eventsWithoutTimestamp += 1;
      return;
    }
    if (this.earliestTimestampMs === undefined || time < this.earliestTimestampMs) {
      this.earliestTimestampMs = time;
    }
    if (this.latestTimestampMs === undefined || time > this.latestTimestampMs) {
      this.latestTimestampMs = time;
    }
  }

  /** Counts the identifiers of an event. `person`, when given, contains the email and profile_id that its entry is sent with. */
  private countIdentity(event: SegmentEvent, person: Record<string, unknown> | undefined): void {
    const traits = recordAt(event, "traits");
    const contextTraits = recordAt(recordAt(event, "context"), "traits");
    const properties = recordAt(event, "properties");
    const email =
      person === undefined ? isPresent(traits?.["email"]) || isPresent(contextTraits?.["email"]) || isPresent(properties?.["email"]) : isPresent(person["email"]);
    const profileId =
      person === undefined
        ? isPresent(properties?.["profile_id"]) || isPresent(traits?.["profile_id"]) || isPresent(contextTraits?.["profile_id"])
        : isPresent(person["profile_id"]);
    const userId = isPresent(event["userId"]);
    const anonymousId = isPresent(event["anonymousId"]);
    const coverage = this.identity;
    coverage.email += email ? 1 : 0;
    coverage.profileId += profileId ? 1 : 0;
    coverage.userId += userId ? 1 : 0;
    coverage.anonymousId += anonymousId ? 1 : 0;
    coverage.emailOrProfileId += email || profileId ? 1 : 0;
    coverage.none += email || profileId || userId || anonymousId ? 0 : 1;
  }
}

function libraryNameOf(event: SegmentEvent): string {
  const name = recordAt(recordAt(event, "context"), "library")?.["name"];
  return typeof name === "string" && name !== "" ? name : MISSING_VALUE;
}

export function recordAt(parent: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const value = parent?.[key];
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Checks that an identifier is usable: a non-empty string or a number, as Segment treats ids. */
function isPresent(value: unknown): boolean {
  return (typeof value === "string" && value.trim() !== "") || (typeof value === "number" && Number.isFinite(value));
}

export function increment<K>(map: Map<K | string, number>, key: K): void {
  addToTally(map, key, OTHER_VALUES, MAX_DISTINCT_VALUES);
}
