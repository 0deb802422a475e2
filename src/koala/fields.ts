/**
 * The fields of Koala's two actions, declared once. Validation, the preset mappings, `--help` and the
 * docs are all derived from these declarations.
 *
 * Facts from Segment's "Koala (Cloud)" destination (segmentio/action-destinations,
 * packages/destination-actions/src/destinations/koala): the same field names, types, required flags
 * and default mappings, in the same order, because the order of the mapped payload is the order of
 * the keys in each request entry.
 */

/** A mapping value as written in a config: a literal, or an object holding Segment directives. */
export type MappingValue = unknown;

export type FieldType = "string" | "object";

export interface ActionField {
  name: string;
  type: FieldType;
  /** Only `date-time` is used by Koala's actions: an ISO-8601 timestamp. */
  format?: "date-time";
  required: boolean;
  description: string;
  default: MappingValue;
}

export type ActionId = "trackEvent" | "identifyVisitor";

const emailFromTraitsOrTopLevel = {
  "@if": {
    exists: { "@path": "$.traits.email" },
    then: { "@path": "$.traits.email" },
    else: { "@path": "$.email" },
  },
};

const emailField: ActionField = {
  name: "email",
  type: "string",
  required: false,
  description: "Email of the person, used by Koala to find them when there is no profile_id",
  default: emailFromTraitsOrTopLevel,
};

const sentAtField: ActionField = {
  name: "sent_at",
  type: "string",
  format: "date-time",
  required: true,
  description: "When the event happened, as an ISO-8601 timestamp",
  default: { "@path": "$.timestamp" },
};

const contextField: ActionField = {
  name: "context",
  type: "object",
  required: false,
  description: "Context of the event (page, library, user agent, …)",
  default: { "@path": "$.context" },
};

const deviceIpField: ActionField = {
  name: "device_ip",
  type: "string",
  required: false,
  description: "IP address of the device, used for the request's ip when no other is given",
  default: { "@path": "$.context.ip" },
};

const messageIdField: ActionField = {
  name: "message_id",
  type: "string",
  required: true,
  description: "Segment's messageId, Koala's idempotency key",
  default: { "@path": "$.messageId" },
};

export const trackEventFields: readonly ActionField[] = [
  emailField,
  {
    name: "event",
    type: "string",
    required: true,
    description: "Name of the event",
    default: { "@path": "$.event" },
  },
  {
    name: "properties",
    type: "object",
    required: false,
    description: "Properties of the event",
    default: { "@path": "$.properties" },
  },
  sentAtField,
  contextField,
  {
    name: "traits",
    type: "object",
    required: false,
    description: "Traits of the person, taken from the event's context",
    default: { "@path": "$.context.traits" },
  },
  deviceIpField,
  messageIdField,
];

export const identifyVisitorFields: readonly ActionField[] = [
  emailField,
  {
    name: "traits",
    type: "object",
    // Segment's field is optional, but koala-replay requires it: an identify call without traits
    // carries nothing for Koala to record.
    required: true,
    description: "Traits of the person",
    default: { "@path": "$.traits" },
  },
  sentAtField,
  contextField,
  deviceIpField,
  messageIdField,
];

export const actionFields: Readonly<Record<ActionId, readonly ActionField[]>> = {
  trackEvent: trackEventFields,
  identifyVisitor: identifyVisitorFields,
};

/** Builds the default mapping of an action: each field's name to its default mapping value. */
export function defaultMapping(action: ActionId): Record<string, MappingValue> {
  const mapping: Record<string, MappingValue> = {};
  for (const field of actionFields[action]) {
    mapping[field.name] = structuredClone(field.default);
  }
  return mapping;
}
