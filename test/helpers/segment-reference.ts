import { createRequire } from "node:module";

// Segment's own packages compute the reference: the trigger with @segment/destination-subscriptions
// and the mapping with @segment/actions-core's transform. The request body is then built from the
// mapped payload by the rules of the Koala (Cloud) destination, written out here independently of
// src/koala so that a mistake there cannot hide in both.

const require = createRequire(import.meta.url);
const subscriptions = require("@segment/destination-subscriptions") as {
  parseFql(text: string): unknown;
  validate(ast: unknown, event: unknown): boolean;
};
const actionsCore = require("@segment/actions-core") as {
  transform(mapping: unknown, data: unknown): Record<string, unknown>;
};

type Payload = Record<string, unknown>;

const emailDefault = {
  "@if": { exists: { "@path": "$.traits.email" }, then: { "@path": "$.traits.email" }, else: { "@path": "$.email" } },
};

const trackMapping = {
  email: emailDefault,
  event: { "@path": "$.event" },
  properties: { "@path": "$.properties" },
  sent_at: { "@path": "$.timestamp" },
  context: { "@path": "$.context" },
  traits: { "@path": "$.context.traits" },
  device_ip: { "@path": "$.context.ip" },
  message_id: { "@path": "$.messageId" },
};

const identifyMapping = {
  email: emailDefault,
  traits: { "@path": "$.traits" },
  sent_at: { "@path": "$.timestamp" },
  context: { "@path": "$.context" },
  device_ip: { "@path": "$.context.ip" },
  message_id: { "@path": "$.messageId" },
};

/** The body Segment's Koala (Cloud) destination would POST for this event, or undefined when it sends nothing. */
export function segmentRequestBody(event: Payload, options: { includeBrowserEvents: boolean }): Payload | undefined {
  if (subscriptions.validate(subscriptions.parseFql('type = "track"'), event)) {
    const library = (event["context"] as { library?: { name?: string } } | undefined)?.library?.name;
    if (library === "analytics.js" && !options.includeBrowserEvents) {
      return undefined;
    }
    const payload = actionsCore.transform(structuredClone(trackMapping), structuredClone(event));
    if (!isValid(payload, ["event", "sent_at", "message_id"])) {
      return undefined;
    }
    const properties = payload["properties"] as Payload | undefined;
    const traits = (payload["traits"] as Payload | undefined) ?? {};
    const body = {
      profile_id: properties?.["profile_id"],
      email: payload["email"] ?? properties?.["email"] ?? traits["email"],
      traits,
      ip: properties?.["ip"] ?? payload["device_ip"],
      events: [{ type: "track", ...payload }],
    };
    return hasPerson(body) ? dropUndefined(body) : undefined;
  }
  if (subscriptions.validate(subscriptions.parseFql('type = "identify"'), event)) {
    const payload = actionsCore.transform(structuredClone(identifyMapping), structuredClone(event));
    if (!isValid(payload, ["traits", "sent_at", "message_id"])) {
      return undefined;
    }
    const traits = (payload["traits"] as Payload | undefined) ?? {};
    const body = {
      profile_id: traits["profile_id"],
      email: payload["email"] ?? traits["email"],
      traits,
      ip: traits["ip"] ?? payload["device_ip"],
      identifies: [{ type: "identify", ...payload, context: { ...(payload["context"] as Payload | undefined), source: "segment-cloud" } }],
    };
    return hasPerson(body) ? dropUndefined(body) : undefined;
  }
  return undefined;
}

function isValid(payload: Payload, required: string[]): boolean {
  if (required.some((name) => payload[name] === undefined || payload[name] === null)) {
    return false;
  }
  return !Number.isNaN(Date.parse(String(payload["sent_at"])));
}

function hasPerson(body: { profile_id: unknown; email: unknown }): boolean {
  return Boolean(body.profile_id) || Boolean(body.email);
}

function dropUndefined(value: unknown): Payload {
  return JSON.parse(JSON.stringify(value)) as Payload;
}
