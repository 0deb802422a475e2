import { actionFields, type ActionField, type ActionId } from "../koala/fields.js";
import { isDateTime } from "./date-time.js";
import { describeValue, isPlainObject } from "./value-types.js";

export type PayloadProblemReason = "missing-required" | "wrong-type" | "invalid-date-time";

/** A reason why a mapped payload cannot be sent to Koala, with the field it concerns. */
export interface PayloadProblem {
  field: string;
  reason: PayloadProblemReason;
  message: string;
  expected: string;
  found: string;
}

/**
 * Converts a value for a string field as Segment's schema validation does (ajv with
 * `coerceTypes: "array"`): numbers and booleans become their text, and an array of one such value is
 * unwrapped. Returns undefined when no conversion applies.
 */
function coerceToString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.length === 1) {
    const [only] = value as unknown[];
    if (typeof only === "string" || typeof only === "number" || typeof only === "boolean") return String(only);
  }
  return undefined;
}

/** The field names of each action, looked up for every key of every payload. */
const fieldNames: Readonly<Record<ActionId, ReadonlySet<string>>> = {
  trackEvent: new Set(actionFields.trackEvent.map((field) => field.name)),
  identifyVisitor: new Set(actionFields.identifyVisitor.map((field) => field.name)),
};

function problem(field: ActionField, reason: PayloadProblemReason, message: string, expected: string, found: unknown): PayloadProblem {
  return { field: field.name, reason, message: `${field.name}: ${message}`, expected, found: describeValue(found) };
}

function checkStringField(field: ActionField, payload: Record<string, unknown>, value: unknown): PayloadProblem | undefined {
  const text = coerceToString(value);
  if (text === undefined) {
    return problem(field, "wrong-type", `must be a string, found ${describeValue(value)}`, "a string", value);
  }
  payload[field.name] = text;
  if (field.format === "date-time" && !isDateTime(text)) {
    // A number or boolean is reported as the value the event has, not as the string it was coerced to.
    return problem(field, "invalid-date-time", `must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z, found ${describeValue(value)}`, "a date-time", value);
  }
  return undefined;
}

function checkField(field: ActionField, payload: Record<string, unknown>): PayloadProblem | undefined {
  const value = payload[field.name];
  if (value === undefined) {
    if (!field.required) return undefined;
    return problem(field, "missing-required", "is required but the mapping gave no value (or null, or an empty string)", `a ${field.type}`, value);
  }
  switch (field.type) {
    case "string":
      return checkStringField(field, payload, value);
    case "object":
      return isPlainObject(value) ? undefined : problem(field, "wrong-type", `must be an object, found ${describeValue(value)}`, "an object", value);
    default: {
      const unreachable: never = field.type;
      return unreachable;
    }
  }
}

/**
 * Prepares a mapped payload for Koala and checks it against the action's fields, in place, as
 * Segment's action runner does (actions-core 3.170.0) before it calls the destination:
 * - keys that are not fields of the action are removed;
 * - null values and empty strings are removed, since no Koala field accepts null, and Segment drops
 *   empty strings at the top level;
 * - numbers and booleans given to a string field become strings (`5` → `"5"`), as Segment's
 *   validator converts them;
 * - then every required field must be present, strings must be strings, objects plain objects, and
 *   `sent_at` a date-time.
 * Returns the first problem in field order, or undefined when the payload can be sent.
 */
export function validatePayload(action: ActionId, payload: Record<string, unknown>): PayloadProblem | undefined {
  const fields = actionFields[action];
  const names = fieldNames[action];
  for (const key of Object.keys(payload)) {
    const value = payload[key];
    if (!names.has(key) || value === null || value === "") delete payload[key];
  }
  for (const field of fields) {
    const found = checkField(field, payload);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Checks one field's value as `validatePayload` would, without changing anything. The config loader
 * uses it on fields mapped to a literal, whose value is the same for every event.
 */
export function checkFieldValue(action: ActionId, fieldName: string, value: unknown): PayloadProblem | undefined {
  const field = actionFields[action].find((candidate) => candidate.name === fieldName);
  if (field === undefined) return undefined;
  const payload: Record<string, unknown> = {};
  if (value !== null && value !== "") payload[fieldName] = structuredClone(value);
  return checkField(field, payload);
}
