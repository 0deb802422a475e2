import type { ActionId } from "../../src/koala/fields.js";

type Payload = Record<string, unknown>;

const requiredFields: Readonly<Record<ActionId, readonly string[]>> = {
  trackEvent: ["event", "sent_at", "message_id"],
  identifyVisitor: ["traits", "sent_at", "message_id"],
};

/**
 * Builds the body of Koala's POST /batch from a mapped payload, as Segment's Koala (Cloud)
 * destination does. Returns null when that destination would send nothing: a required field is
 * missing, the person has neither profile_id nor email, or a track event came from analytics.js.
 */
export function buildRequestBody(action: ActionId, payload: Payload): Payload | null {
  for (const field of requiredFields[action]) {
    if (payload[field] === undefined || payload[field] === null) return null;
  }
  switch (action) {
    case "trackEvent":
      return trackBody(payload);
    case "identifyVisitor":
      return identifyBody(payload);
    default:
      return assertNever(action);
  }
}

function trackBody(payload: Payload): Payload | null {
  const context = objectOrEmpty(payload["context"]);
  if (objectOrEmpty(context["library"])["name"] === "analytics.js") return null;
  const properties = objectOrEmpty(payload["properties"]);
  const traits = objectOrEmpty(payload["traits"]);
  const body = person(
    properties["profile_id"],
    payload["email"] ?? properties["email"] ?? traits["email"],
    traits,
    properties["ip"] ?? payload["device_ip"],
  );
  if (body === null) return null;
  body["events"] = [{ type: "track", ...payload }];
  return body;
}

function identifyBody(payload: Payload): Payload | null {
  const traits = objectOrEmpty(payload["traits"]);
  const body = person(traits["profile_id"], payload["email"] ?? traits["email"], traits, traits["ip"] ?? payload["device_ip"]);
  if (body === null) return null;
  const context = { ...objectOrEmpty(payload["context"]), source: "segment-cloud" };
  body["identifies"] = [{ type: "identify", ...payload, context }];
  return body;
}

function person(profileId: unknown, email: unknown, traits: Payload, ip: unknown): Payload | null {
  // Segment's destination tests both for truth, so a profile_id of 0 with an empty email sends nothing.
  if (!profileId && !email) return null;
  const body: Payload = {};
  if (profileId != null) body["profile_id"] = profileId;
  if (email != null) body["email"] = email;
  body["traits"] = traits;
  if (ip != null) body["ip"] = ip;
  return body;
}

function objectOrEmpty(value: unknown): Payload {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Payload) : {};
}

function assertNever(value: never): never {
  throw new Error(`unexpected action ${String(value)}`);
}
