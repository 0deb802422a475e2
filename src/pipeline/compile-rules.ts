import type { MappingDefinition } from "../koala/presets.js";
import type { SegmentEvent } from "../inputs/record.js";
import { actionFields } from "../koala/fields.js";
import { compileTrigger, TriggerSyntaxError, type CompiledTrigger } from "../triggers/index.js";
import type { CompiledRule } from "./processor.js";

/** Every problem found while compiling the triggers and mappings of a run, each naming where it is. */
export class RuleCompilationError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`${problems.length} invalid ${problems.length === 1 ? "trigger or mapping" : "triggers or mappings"}:\n${problems.join("\n")}`);
    this.name = "RuleCompilationError";
    this.problems = problems;
  }
}

/**
 * Compiles the enabled mappings, and reports every invalid trigger or mapping at once, before any
 * event is read. Mapping triggers use Segment's trigger subset, so a trigger pasted from Segment means
 * what it meant there, and what Segment would have ignored is rejected.
 */
export function compileRules(definitions: readonly MappingDefinition[]): CompiledRule[] {
  const problems: string[] = [];
  const rules: CompiledRule[] = [];
  for (const definition of definitions.filter((candidate) => candidate.enabled)) {
    const trigger = compileOrCollect(definition.trigger, `mapping "${definition.name}": trigger`, problems);
    if (trigger !== undefined) {
      rules.push(compileRule(definition, trigger));
    }
  }
  if (problems.length > 0) {
    throw new RuleCompilationError(problems);
  }
  return rules;
}

/**
 * Compiles the extra triggers of `--filter`, `--since` and `--until`, in the full FQL language, into
 * one predicate that every event must pass before the mappings see it.
 */
export function compileFilters(filters: readonly { label: string; text: string }[]): ((event: SegmentEvent) => boolean) | undefined {
  const problems: string[] = [];
  const triggers: CompiledTrigger[] = [];
  for (const filter of filters) {
    const trigger = compileOrCollect(filter.text, filter.label, problems, "fql");
    if (trigger !== undefined) {
      triggers.push(trigger);
    }
  }
  if (problems.length > 0) {
    throw new RuleCompilationError(problems);
  }
  if (triggers.length === 0) {
    return undefined;
  }
  return (event) => triggers.every((trigger) => trigger.matches(event));
}

function compileOrCollect(text: string, label: string, problems: string[], dialect: "subscription" | "fql" = "subscription"): CompiledTrigger | undefined {
  try {
    return compileTrigger(text, { dialect });
  } catch (error) {
    if (error instanceof TriggerSyntaxError) {
      problems.push(`${label}: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

// TODO: interim mapping evaluation, enough for the presets; replaced by the mapping engine
// (src/mappings) when it lands.

function compileRule(definition: MappingDefinition, trigger: CompiledTrigger): CompiledRule {
  return {
    name: definition.name,
    action: definition.action,
    matches: (event) => trigger.matches(event),
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
