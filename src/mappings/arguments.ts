import type { CompileContext } from "./context.js";
import { childPointer } from "./pointer.js";
import { suggestionHint } from "./suggest.js";
import { describeValue, isPlainObject } from "./value-types.js";

/** Checks whether a value is written as a directive: an object with at least one `@`-prefixed key. */
export function isDirectiveObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (Object.hasOwn(value, key) && key.startsWith("@")) return true;
  }
  return false;
}

function describeArgument(value: unknown): string {
  return isDirectiveObject(value) ? "a directive" : describeValue(value);
}

export interface ArgumentShape {
  directive: string;
  allowed: readonly string[];
  required: readonly string[];
}

/**
 * Checks that a directive's argument is an object with only the allowed keys and every required key.
 * Unknown keys are rejected, with the closest allowed key suggested, because Segment ignores them
 * and a misspelt `then` or `separator` would otherwise drop a field without a word.
 */
export function checkArgumentObject(
  argument: unknown,
  pointer: string,
  context: CompileContext,
  shape: ArgumentShape,
): argument is Record<string, unknown> {
  const expectedKeys = shape.allowed.map((key) => `"${key}"`).join(", ");
  if (!isPlainObject(argument) || isDirectiveObject(argument)) {
    context.report({
      pointer,
      message: `${shape.directive} takes an object with the keys ${expectedKeys}, found ${describeArgument(argument)}`,
      expected: `an object with the keys ${expectedKeys}`,
      found: describeArgument(argument),
    });
    return false;
  }
  let valid = true;
  for (const key of Object.keys(argument)) {
    if (shape.allowed.includes(key)) continue;
    valid = false;
    context.report({
      pointer: childPointer(pointer, key),
      message: `${shape.directive} has no key "${key}".${suggestionHint(key, shape.allowed)} Allowed keys: ${expectedKeys}`,
      expected: `one of ${expectedKeys}`,
      found: `"${key}"`,
    });
  }
  for (const key of shape.required) {
    if (argument[key] !== undefined) continue;
    valid = false;
    context.report({
      pointer,
      message: `${shape.directive} requires the key "${key}"`,
      expected: `an object with the key "${key}"`,
      found: "no such key",
    });
  }
  return valid;
}

export interface StringRule {
  /** Name of the value in messages, such as "@replace pattern". */
  label: string;
  minLength?: number;
  maxLength?: number;
  oneOf?: readonly string[];
  /** Compare with `oneOf` ignoring case, as Segment's validator does for `mode` and `direction`. */
  ignoreCase?: boolean;
}

/** Checks a value that must be a string literal. Returns it, or undefined after reporting why not. */
export function expectString(
  value: unknown,
  pointer: string,
  context: CompileContext,
  rule: StringRule,
): string | undefined {
  if (typeof value !== "string") {
    context.report({
      pointer,
      message: `${rule.label} must be a string, found ${describeArgument(value)}`,
      expected: "a string",
      found: describeArgument(value),
    });
    return undefined;
  }
  const minLength = rule.minLength ?? 0;
  const maxLength = rule.maxLength ?? Number.POSITIVE_INFINITY;
  if (value.length < minLength || value.length > maxLength) {
    const bounds = maxLength === Number.POSITIVE_INFINITY ? `at least ${minLength}` : `${minLength} to ${maxLength}`;
    context.report({
      pointer,
      message: `${rule.label} must be ${bounds} characters long, found ${value.length}`,
      expected: `a string of ${bounds} characters`,
      found: describeValue(value),
    });
    return undefined;
  }
  const comparable = rule.ignoreCase === true ? value.toLowerCase() : value;
  if (rule.oneOf !== undefined && !rule.oneOf.includes(comparable)) {
    const choices = rule.oneOf.map((choice) => `"${choice}"`).join(" or ");
    context.report({
      pointer,
      message: `${rule.label} must be ${choices}, found ${JSON.stringify(value)}.${suggestionHint(value, rule.oneOf)}`,
      expected: choices,
      found: JSON.stringify(value),
    });
    return undefined;
  }
  return value;
}

export function expectBoolean(value: unknown, pointer: string, context: CompileContext, label: string): boolean {
  if (typeof value === "boolean") return true;
  context.report({
    pointer,
    message: `${label} must be true or false, found ${describeArgument(value)}`,
    expected: "a boolean",
    found: describeArgument(value),
  });
  return false;
}

/** Reports a value that must be a string literal or a directive computing one. */
export function reportNotStringOrDirective(value: unknown, pointer: string, context: CompileContext, label: string): void {
  context.report({
    pointer,
    message: `${label} must be a string or a directive, found ${describeArgument(value)}`,
    expected: "a string or a directive",
    found: describeArgument(value),
  });
}
