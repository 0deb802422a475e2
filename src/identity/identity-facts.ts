import type { SegmentEvent } from "../inputs/record.js";
import { normalizeId, readEventEmailSource, readEventTime } from "./event-identity.js";

/** What one event of the first pass tells the identity graph, read where the event was parsed. */
export interface IdentityFacts {
  userId: string | undefined;
  anonymousId: string | undefined;
  /** Set for alias calls: the id the user had before. */
  aliasOf: string | undefined;
  isAlias: boolean;
  /** The event's email, null when a field held something that is not an email, undefined when none. */
  email: string | null | undefined;
  /** Whether `email` came from `properties.email`, which may name someone else, such as an invitee. */
  emailInProperties?: boolean;
  /** Event time in epoch milliseconds, read only when the graph stores something; NaN otherwise. */
  time: number;
}

/** Reads an event's identity facts, or returns undefined when the event adds nothing to the graph. */
export function extractIdentityFacts(event: SegmentEvent): IdentityFacts | undefined {
  const userId = normalizeId(event["userId"]);
  const anonymousId = normalizeId(event["anonymousId"]);
  const isAlias = event["type"] === "alias";
  const { email, fromProperties } = readEventEmailSource(event);
  const storesSomething = typeof email === "string" || (userId !== undefined && anonymousId !== undefined);
  if (!isAlias && email === undefined && !storesSomething) {
    return undefined;
  }
  return {
    userId,
    anonymousId,
    aliasOf: isAlias ? normalizeId(event["previousId"]) : undefined,
    isAlias,
    email,
    ...(fromProperties ? { emailInProperties: true } : {}),
    // The time is parsed only when something is stored, because most events store nothing.
    time: storesSomething ? readEventTime(event) : Number.NaN,
  };
}
