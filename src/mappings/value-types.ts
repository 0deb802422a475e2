/** Names of JSON value kinds as they appear in messages. */
export type ValueKind = "string" | "number" | "boolean" | "null" | "array" | "object" | "undefined" | "other";

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function kindOf(value: unknown): ValueKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  switch (type) {
    case "string":
    case "number":
    case "boolean":
    case "object":
    case "undefined":
      return type;
    default:
      return "other";
  }
}

/** Describes a value for a message: its kind, and the value itself when it is short. */
export function describeValue(value: unknown): string {
  const kind = kindOf(value);
  switch (kind) {
    case "string": {
      const text = value as string;
      return text.length <= 40 ? `string ${JSON.stringify(text)}` : `string of ${text.length} characters`;
    }
    case "number":
    case "boolean":
      return `${kind} ${String(value)}`;
    case "null":
    case "undefined":
      return kind;
    case "array":
      return `array of ${(value as unknown[]).length} items`;
    case "object":
      return "object";
    case "other":
      return typeof value;
  }
}

/**
 * Stores `value` under `key` as an own, enumerable property. A plain assignment to `__proto__` would
 * replace the object's prototype instead, and keys come from events and configs.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  target[key] = value;
}
