import { actionFields, type ActionId } from "../../koala/fields.js";
import type { MappingDefinition } from "../../koala/presets.js";
import { compileMapping, rootDirectiveKey } from "../compile.js";
import { isStackOverflow, MappingValidationError } from "../errors.js";
import { compileTrigger, TriggerSyntaxError } from "../../triggers/index.js";
import { describeEmailPatternProblem } from "../../pipeline/email-exclusion.js";
import { checkFieldValue } from "../payload.js";
import { childPointer } from "../pointer.js";
import { hasPlaceholder } from "../template-text.js";
import { suggestionHint } from "../suggest.js";
import { describeValue, isPlainObject } from "../value-types.js";
import type { ConfigProblem } from "./config-error.js";
import { findMessageIdTemplateProblems } from "./template-warnings.js";

/** Maximum number of mappings in one Segment destination, kept so that a config can be copied back to Segment. */
export const maxMappings = 50;

export const configKeys: readonly string[] = ["$schema", "mappings", "excludeEmails"];
export const mappingKeys: readonly string[] = ["name", "enabled", "trigger", "action", "mapping"];
export const actionIds: readonly ActionId[] = ["trackEvent", "identifyVisitor"];

type Report = (problem: ConfigProblem) => void;

function rejectUnknownKeys(object: Record<string, unknown>, allowed: readonly string[], pointer: string, where: string, report: Report): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    report({
      pointer: childPointer(pointer, key),
      message: `unknown key "${key}" in ${where}.${suggestionHint(key, allowed)} Allowed keys: ${allowed.filter((name) => !name.startsWith("__")).join(", ")}`,
      expected: `one of ${allowed.join(", ")}`,
      found: `"${key}"`,
    });
  }
}

function readNonEmptyString(object: Record<string, unknown>, key: string, pointer: string, report: Report): string | undefined {
  const value = object[key];
  if (typeof value === "string" && value.trim() !== "") return value;
  const found = value === undefined ? "nothing" : describeValue(value);
  report({ pointer: childPointer(pointer, key), message: `"${key}" must be a non-empty string, found ${found}`, expected: "a non-empty string", found });
  return undefined;
}

function readAction(object: Record<string, unknown>, pointer: string, report: Report): ActionId | undefined {
  const value = object.action;
  const match = actionIds.find((id) => id === value);
  if (match !== undefined) return match;
  const hint = typeof value === "string" ? suggestionHint(value.replaceAll(" ", ""), actionIds) : "";
  report({
    pointer: childPointer(pointer, "action"),
    message: `unknown action ${value === undefined ? "(missing)" : JSON.stringify(value)}. Use "trackEvent" or "identifyVisitor".${hint}`,
    expected: '"trackEvent" or "identifyVisitor"',
    found: value === undefined ? "nothing" : describeValue(value),
  });
  return undefined;
}

/**
 * Checks a mapping's fields against its action. A field the config leaves out is not mapped: the
 * action's defaults do not fill it in, so the config shows everything that is sent. A required field
 * left out is a problem, reported with its default mapping to copy.
 */
function containsDirective(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsDirective);
  if (!isPlainObject(value)) return false;
  return Object.keys(value).some((key) => key.startsWith("@") || containsDirective(value[key]));
}

/**
 * Describes a field mapped to a string that reads like a path ("$.event") or a template
 * ("{{event}}"), the mistake of a missing `@path` or `@template`. A string in a mapping is sent as
 * it is, in Segment too, so "$.context.traits.email" as `email` would send every event as one person
 * of that email. `{"@literal": …}` sends such text on purpose. The constant `message_id` has a
 * check of its own, in `findMessageIdTemplateProblems`.
 */
function describeMissingDirective(fieldName: string, value: unknown): string | undefined {
  if (typeof value !== "string" || fieldName === "message_id") return undefined;
  const quoted = JSON.stringify(value);
  const sentAsText = `a string in a mapping is sent as it is, so every entry would get this text as its ${fieldName}`;
  const keepText = `To send the text as it is, write {"@literal": ${quoted}}`;
  if (/^\$[.[]/.test(value)) {
    return `the literal ${quoted} looks like a path, but ${sentAsText}. To read that field of the event, write {"@path": ${quoted}}. ${keepText}`;
  }
  if (hasPlaceholder(value)) {
    return `the literal ${quoted} looks like a template, but ${sentAsText}. To insert values from the event, write {"@template": ${quoted}}. ${keepText}`;
  }
  return undefined;
}

/** Reports a field mapped to a literal that Koala's action rejects, since it would fail every event. */
function checkLiteralField(mapping: Record<string, unknown>, action: ActionId, fieldName: string, pointer: string, report: Report): void {
  const value = mapping[fieldName];
  if (containsDirective(value)) return;
  const missingDirective = describeMissingDirective(fieldName, value);
  if (missingDirective !== undefined) {
    report({ pointer: childPointer(pointer, fieldName), message: missingDirective, expected: 'a directive such as {"@path": "$.event"}', found: JSON.stringify(value) });
    return;
  }
  const problem = checkFieldValue(action, fieldName, value);
  if (problem === undefined) return;
  report({
    pointer: childPointer(pointer, fieldName),
    message: `the literal ${JSON.stringify(value)} is invalid for every event: ${problem.message}`,
    expected: problem.expected,
    found: problem.found,
  });
}

function checkFields(mapping: Record<string, unknown>, action: ActionId, pointer: string, report: Report): void {
  const fields = actionFields[action];
  const names = fields.map((field) => field.name);
  rejectUnknownKeys(mapping, [...names, rootDirectiveKey], pointer, `the fields of ${action}`, report);
  for (const field of fields) {
    if (mapping[field.name] !== undefined) checkLiteralField(mapping, action, field.name, pointer, report);
    if (!field.required || mapping[field.name] !== undefined) continue;
    report({
      pointer,
      message: `the required field "${field.name}" of ${action} is missing. Its default mapping is ${JSON.stringify(field.default)}`,
      expected: `a mapping for "${field.name}"`,
      found: "no such key",
    });
  }
}

function checkMappingValue(mapping: unknown, action: ActionId | undefined, pointer: string, report: Report): Record<string, unknown> | undefined {
  if (!isPlainObject(mapping)) {
    const found = mapping === undefined ? "nothing" : describeValue(mapping);
    report({ pointer, message: `"mapping" must be an object of field mappings, found ${found}`, expected: "an object", found });
    return undefined;
  }
  if (action !== undefined) {
    checkFields(mapping, action, pointer, report);
  } else {
    // A misspelt field is reported now, not after the action is fixed: it is unknown to every action.
    const names = new Set(actionIds.flatMap((id) => actionFields[id].map((field) => field.name)));
    rejectUnknownKeys(mapping, [...names, rootDirectiveKey], pointer, "the fields of any action", report);
  }
  for (const problem of findMessageIdTemplateProblems(mapping, pointer)) report(problem);
  try {
    compileMapping(mapping);
  } catch (error) {
    if (!(error instanceof MappingValidationError)) throw error;
    for (const problem of error.problems) report({ ...problem, pointer: pointer + problem.pointer });
  }
  return mapping;
}

function readMapping(value: unknown, pointer: string, report: Report): MappingDefinition | undefined {
  if (!isPlainObject(value)) {
    report({ pointer, message: `each mapping must be an object, found ${describeValue(value)}`, expected: "an object", found: describeValue(value) });
    return undefined;
  }
  rejectUnknownKeys(value, mappingKeys, pointer, "a mapping", report);
  const name = readNonEmptyString(value, "name", pointer, report);
  const trigger = readNonEmptyString(value, "trigger", pointer, report);
  if (trigger !== undefined) checkTrigger(trigger, childPointer(pointer, "trigger"), report);
  const action = readAction(value, pointer, report);
  if (value.enabled !== undefined && typeof value.enabled !== "boolean") {
    report({ pointer: childPointer(pointer, "enabled"), message: `"enabled" must be true or false, found ${describeValue(value.enabled)}`, expected: "a boolean", found: describeValue(value.enabled) });
  }
  const mapping = checkMappingValue(value.mapping, action, childPointer(pointer, "mapping"), report);
  if (name === undefined || trigger === undefined || action === undefined || mapping === undefined) return undefined;
  return { name, enabled: value.enabled !== false, trigger, action, mapping };
}

/** Reports a trigger that does not compile in Segment's trigger subset, with the compiler's positioned message. */
function checkTrigger(trigger: string, pointer: string, report: Report): void {
  try {
    compileTrigger(trigger);
  } catch (error) {
    if (!(error instanceof TriggerSyntaxError)) throw error;
    report({ pointer, message: error.message.replace(/\n/g, "\n    "), expected: error.expected, found: error.found });
  }
}

function checkUniqueNames(mappings: readonly unknown[], report: Report): void {
  const firstIndex = new Map<string, number>();
  mappings.forEach((mapping, index) => {
    const name = isPlainObject(mapping) ? mapping.name : undefined;
    if (typeof name !== "string") return;
    const earlier = firstIndex.get(name);
    if (earlier === undefined) {
      firstIndex.set(name, index);
      return;
    }
    report({
      pointer: `/mappings/${index}/name`,
      message: `the name ${JSON.stringify(name)} is already used by /mappings/${earlier}. Names identify mappings in reports, so make them unique`,
      expected: "a unique name",
      found: JSON.stringify(name),
    });
  });
}

function readMappings(value: unknown, report: Report): MappingDefinition[] {
  if (!Array.isArray(value)) {
    const found = value === undefined ? "nothing" : describeValue(value);
    report({ pointer: "/mappings", message: `"mappings" must be an array of mappings, found ${found}`, expected: "an array", found });
    return [];
  }
  if (value.length === 0 || value.length > maxMappings) {
    report({
      pointer: "/mappings",
      message: `"mappings" contains ${value.length} mappings, but a Koala destination has 1 to ${maxMappings}`,
      expected: `1 to ${maxMappings} mappings`,
      found: `${value.length} mappings`,
    });
  }
  const definitions = value.map((mapping: unknown, index) => readMapping(mapping, `/mappings/${index}`, report));
  checkUniqueNames(value, report);
  return definitions.filter((definition) => definition !== undefined);
}

/**
 * Reads `excludeEmails`: glob patterns of the emails whose entries are not sent. Each pattern is
 * checked here, so that one that would match nothing is reported with its position.
 */
function readExcludedEmails(value: unknown, report: Report): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    report({
      pointer: "/excludeEmails",
      message: `"excludeEmails" must be an array of email patterns, such as ["*@yourcompany.com"], found ${describeValue(value)}`,
      expected: "an array of strings",
      found: describeValue(value),
    });
    return [];
  }
  const patterns: string[] = [];
  value.forEach((pattern: unknown, index) => {
    const pointer = childPointer("/excludeEmails", index);
    if (typeof pattern !== "string") {
      report({ pointer, message: `each email pattern must be a string, such as "*@yourcompany.com", found ${describeValue(pattern)}`, expected: "a string", found: describeValue(pattern) });
      return;
    }
    const problem = describeEmailPatternProblem(pattern);
    if (problem !== undefined) {
      report({ pointer, message: `invalid email pattern ${JSON.stringify(pattern)}: ${problem}`, expected: "an email pattern", found: JSON.stringify(pattern) });
      return;
    }
    patterns.push(pattern);
  });
  return patterns;
}

function readConfig(config: unknown, report: Report): ValidConfig {
  if (!isPlainObject(config)) {
    report({ pointer: "", message: `a config must be a JSON object with "mappings", found ${describeValue(config)}`, expected: "an object", found: describeValue(config) });
    return { mappings: [], excludeEmails: [] };
  }
  rejectUnknownKeys(config, configKeys, "", "the config", report);
  if (config.$schema !== undefined && typeof config.$schema !== "string") {
    report({ pointer: "/$schema", message: `"$schema" must be a string, found ${describeValue(config.$schema)}`, expected: "a string", found: describeValue(config.$schema) });
  }
  return { mappings: readMappings(config.mappings, report), excludeEmails: readExcludedEmails(config.excludeEmails, report) };
}

/** Settings of a valid config. */
export interface ValidConfig {
  mappings: MappingDefinition[];
  /** Email patterns of `excludeEmails`, as written. Empty when the key is absent. */
  excludeEmails: string[];
}

/** Validates a parsed config, triggers and email patterns included, and returns what it sets or the list of every problem found. */
export function validateConfig(config: unknown): ValidConfig & { problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const report: Report = (problem) => {
    problems.push(problem);
  };
  try {
    return { ...readConfig(config, report), problems };
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
    report({ pointer: "", message: "the config is nested too deeply to check (the call stack overflowed)" });
    return { mappings: [], excludeEmails: [], problems };
  }
}
