import type { MappingDefinition } from "../koala/presets.js";
import type { SegmentEvent } from "../inputs/record.js";
// The mappings' modules are imported directly, because their index also loads the config file's
// modules. Each worker thread imports this file, and every module it loads delays the worker's start.
import { compileMapping, type CompiledMapping } from "../mappings/compile.js";
import { MappingValidationError } from "../mappings/errors.js";
import { validatePayload } from "../mappings/payload.js";
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
    const rule = trigger === undefined ? undefined : compileRule(definition, trigger, problems);
    if (rule !== undefined) {
      rules.push(rule);
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

/** A field read by `--filter`, `--since` or `--until`, with the label of the option that reads it. */
export interface FilterField {
  label: string;
  name: string;
  segments: readonly string[];
}

/**
 * At most this many filter fields are tracked, because a processed event reports which of them it has
 * as the bits of one 32-bit integer.
 */
export const MAX_FILTER_FIELDS = 31;

/**
 * Lists the fields that the filters read, to tell a user which of them no event has. The filters must
 * compile, as `compileFilters` checks. The processor and the summary both index fields by this order.
 */
export function listFilterFields(filters: readonly { label: string; text: string }[]): FilterField[] {
  const fields: FilterField[] = [];
  for (const filter of filters) {
    for (const field of compileTrigger(filter.text, { dialect: "fql" }).fields) {
      fields.push({ label: filter.label, name: field.name, segments: field.segments });
    }
  }
  return fields.slice(0, MAX_FILTER_FIELDS);
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

function compileRule(definition: MappingDefinition, trigger: CompiledTrigger, problems: string[]): CompiledRule | undefined {
  let mapping: CompiledMapping;
  try {
    mapping = compileMapping(definition.mapping);
  } catch (error) {
    if (!(error instanceof MappingValidationError)) {
      throw error;
    }
    for (const problem of error.problems) {
      problems.push(`mapping "${definition.name}": ${problem.pointer === "" ? "mapping" : problem.pointer}: ${problem.message}`);
    }
    return undefined;
  }
  return {
    name: definition.name,
    action: definition.action,
    matches: (event) => trigger.matches(event),
    apply: (event) => mapping.apply(event),
    validate: (payload) => validatePayload(definition.action, payload)?.message,
  };
}
