import type { EntryKind, PersonFields } from "../delivery/entry.js";
import type { ActionId } from "./fields.js";

/** A mapped payload: the action's field names to the values the mapping produced. */
export type ActionPayload = Record<string, unknown>;

/** Parts of a `/batch` request that one mapped event contributes. */
export interface RequestParts {
  kind: EntryKind;
  person: PersonFields;
  entry: Record<string, unknown>;
}

/**
 * Builds the parts of a `/batch` request from a mapped payload exactly as Segment's Koala (Cloud)
 * destination builds its request body, so that a replayed event means what a live one would have.
 * `??` is deliberate: Segment's destination falls back on null as well as on a missing value.
 */
export function buildRequestParts(action: ActionId, payload: ActionPayload): RequestParts {
  switch (action) {
    case "trackEvent":
      return buildTrackEvent(payload);
    case "identifyVisitor":
      return buildIdentifyVisitor(payload);
    default: {
      const unknownAction: never = action;
      throw new Error(`unknown action ${String(unknownAction)}`);
    }
  }
}

function buildTrackEvent(payload: ActionPayload): RequestParts {
  const properties = asRecord(payload["properties"]);
  const traits = asRecord(payload["traits"]) ?? {};
  const person = compactPerson({
    profile_id: properties?.["profile_id"],
    email: payload["email"] ?? properties?.["email"] ?? traits["email"],
    traits,
    ip: properties?.["ip"] ?? payload["device_ip"],
  });
  return { kind: "events", person, entry: { type: "track", ...payload } };
}

function buildIdentifyVisitor(payload: ActionPayload): RequestParts {
  const traits = asRecord(payload["traits"]) ?? {};
  const person = compactPerson({
    profile_id: traits["profile_id"],
    email: payload["email"] ?? traits["email"],
    traits,
    ip: traits["ip"] ?? payload["device_ip"],
  });
  const context = { ...asRecord(payload["context"]), source: "segment-cloud" };
  return { kind: "identifies", person, entry: { type: "identify", ...payload, context } };
}

/** Checks whether Koala can attach the request to a person, which needs a truthy profile_id or email. */
export function hasIdentity(person: PersonFields): boolean {
  return Boolean(person.profile_id) || Boolean(person.email);
}

/**
 * Serialises the person fields in the order Segment's destination writes them. Two entries may share
 * a request only when these strings are equal.
 */
export function personKey(person: PersonFields): string {
  return JSON.stringify({
    profile_id: person.profile_id,
    email: person.email,
    traits: person.traits,
    ip: person.ip,
  });
}

function compactPerson(fields: { profile_id: unknown; email: unknown; traits: Record<string, unknown>; ip: unknown }): PersonFields {
  // The values are sent as Segment would send them, whatever their JSON type, so the casts only
  // narrow the declared type; JSON.stringify drops the undefined ones.
  return {
    profile_id: fields.profile_id as string | undefined,
    email: fields.email as string | undefined,
    traits: fields.traits,
    ip: fields.ip as string | undefined,
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
