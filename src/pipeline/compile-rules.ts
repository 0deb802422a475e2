import type { MappingDefinition } from "../koala/presets.js";
import type { SegmentEvent } from "../inputs/record.js";
import { actionFields } from "../koala/fields.js";
import type { CompiledRule } from "./processor.js";

// TODO: interim trigger and mapping evaluation, enough for the presets; replaced by the trigger
// engine (src/triggers) and the mapping engine (src/mappings) when they land.

export function compileRules(definitions: readonly MappingDefinition[]): CompiledRule[] {
  return definitions.filter((definition) => definition.enabled).map(compileRule);
}

function compileRule(definition: MappingDefinition): CompiledRule {
  const match = /^type = "(\w+)"$/.exec(definition.trigger);
  if (match === null) {
    throw new Error(`unsupported trigger ${definition.trigger}`);
  }
  const type = match[1];
  return {
    name: definition.name,
    action: definition.action,
    matches: (event) => event["type"] === type,
    apply: (event) => applyMapping(definition.mapping, event),
    validate: (payload) => validatePayload(definition, payload),
  };
}

function applyMapping(mapping: Record<string, unknown>, event: SegmentEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(mapping)) {
    const resolved = resolve(value, event);
    if (resolved !== undefined) {
      out[key] = resolved;
    }
  }
  return out;
}

function resolve(value: unknown, event: SegmentEvent): unknown {
  const directive = value as Record<string, unknown>;
  if (typeof directive["@path"] === "string") {
    return readPath(event, directive["@path"]);
  }
  const condition = directive["@if"] as Record<string, unknown> | undefined;
  if (condition !== undefined) {
    const exists = resolve(condition["exists"], event);
    return resolve(exists !== undefined && exists !== null ? condition["then"] : condition["else"], event);
  }
  return value;
}

function readPath(event: SegmentEvent, path: string): unknown {
  let current: unknown = event;
  for (const key of path.replace(/^\$\./, "").split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function validatePayload(definition: MappingDefinition, payload: Record<string, unknown>): string | undefined {
  for (const field of actionFields[definition.action]) {
    const value = payload[field.name];
    if (value === undefined || value === null) {
      if (field.required) {
        return `missing required field ${field.name}`;
      }
      continue;
    }
    if (field.type === "object" && (typeof value !== "object" || Array.isArray(value))) {
      return `${field.name} must be an object`;
    }
    if (field.type === "string" && typeof value !== "string") {
      return `${field.name} must be a string`;
    }
    if (field.format === "date-time" && Number.isNaN(Date.parse(value as string))) {
      return `${field.name} must be an ISO-8601 date-time`;
    }
  }
  return undefined;
}
