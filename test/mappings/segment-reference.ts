import { createRequire } from "node:module";
import { actionFields, type ActionId } from "../../src/koala/fields.js";

/**
 * Segment's own mapping engine and payload checks (@segment/actions-core 3.170.0), loaded through
 * CommonJS because the package's ES module build does not load in Node 20. Used only to compare.
 */
const require = createRequire(import.meta.url);

interface ActionsCore {
  transform(mapping: unknown, data: unknown): Record<string, unknown>;
  validateSchema(payload: unknown, schema: unknown, options: { throwIfInvalid: boolean }): boolean;
  fieldsToJsonSchema(fields: Record<string, unknown>): Record<string, unknown>;
}

export const actionsCore = require("@segment/actions-core") as ActionsCore;

// removeEmptyValues is not exported by the package, so it is loaded from its file.
const removeEmptyValuesFile = require.resolve("@segment/actions-core").replace(/index\.js$/, "remove-empty-values.js");
const { removeEmptyValues } = require(removeEmptyValuesFile) as {
  removeEmptyValues(payload: unknown, schema: unknown, isRoot: boolean): Record<string, unknown>;
};

/** Segment's JSON Schema for an action, built by its own converter from koala-replay's field declarations. */
export function segmentSchema(action: ActionId): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of actionFields[action]) {
    fields[field.name] = { label: field.name, description: field.description, type: field.type, format: field.format, required: field.required };
  }
  return actionsCore.fieldsToJsonSchema(fields);
}

/**
 * Runs Segment's steps between mapping and sending on a copy of the payload: removing empty values,
 * then validating with coercion. Returns the payload Segment would send, or undefined when it rejects it.
 */
export function segmentPreparePayload(action: ActionId, payload: Record<string, unknown>): Record<string, unknown> | undefined {
  const schema = segmentSchema(action);
  const cleaned = removeEmptyValues(structuredClone(payload), schema, true);
  return actionsCore.validateSchema(cleaned, schema, { throwIfInvalid: false }) ? cleaned : undefined;
}
