import { checkArgumentObject, expectBoolean, expectString, isDirectiveObject, reportNotStringOrDirective } from "../arguments.js";
import { absent, constant, type CompileContext, type DirectiveCompiler, type Evaluate } from "../context.js";
import { MappingRuntimeError } from "../errors.js";
import { childPointer } from "../pointer.js";
import { describeValue } from "../value-types.js";

/** Segment's limits (actions-core 3.170.0): patterns and replacements of at most 10 characters. */
export const maxPatternLength = 10;
export const maxReplacementLength = 10;

const allowedKeys = ["pattern", "replacement", "pattern2", "replacement2", "value", "ignorecase", "global"];

interface Substitution {
  pattern: RegExp;
  replacement: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/\-,#\s]/g, "\\$&");
}

function substitution(pattern: string, replacement: string, flags: string): Substitution {
  return { pattern: new RegExp(escapeRegExp(pattern), flags), replacement };
}

function readFlags(argument: Record<string, unknown>, pointer: string, context: CompileContext): string | undefined {
  let flags = "";
  let valid = true;
  if (argument.global !== undefined) valid = expectBoolean(argument.global, childPointer(pointer, "global"), context, "@replace global") && valid;
  if (argument.ignorecase !== undefined) valid = expectBoolean(argument.ignorecase, childPointer(pointer, "ignorecase"), context, "@replace ignorecase") && valid;
  if (argument.global !== false) flags += "g";
  if (argument.ignorecase === true) flags += "i";
  return valid ? flags : undefined;
}

function readSubstitutions(argument: Record<string, unknown>, pointer: string, context: CompileContext, flags: string): Substitution[] | undefined {
  const text = (key: string, minLength: number, maxLength: number): string | undefined =>
    expectString(argument[key], childPointer(pointer, key), context, { label: `@replace ${key}`, minLength, maxLength });

  const pattern = text("pattern", 1, maxPatternLength);
  const replacement = argument.replacement === undefined ? "" : text("replacement", 0, maxReplacementLength);
  if (argument.pattern2 === undefined && argument.replacement2 !== undefined) {
    context.report({
      pointer: childPointer(pointer, "replacement2"),
      message: '@replace replacement2 is only used with pattern2. Add "pattern2" or remove "replacement2"',
      expected: '"pattern2" beside "replacement2"',
      found: "no pattern2",
    });
    return undefined;
  }
  if (pattern === undefined || replacement === undefined) return undefined;
  const substitutions = [substitution(pattern, replacement, flags)];
  if (argument.pattern2 === undefined) return substitutions;

  const pattern2 = text("pattern2", 1, maxPatternLength);
  const replacement2 = argument.replacement2 === undefined ? "" : text("replacement2", 0, maxReplacementLength);
  if (pattern2 === undefined || replacement2 === undefined) return undefined;
  substitutions.push(substitution(pattern2, replacement2, flags));
  return substitutions;
}

function compileReplaceValue(value: unknown, pointer: string, context: CompileContext): Evaluate | undefined {
  if (typeof value === "string") return constant(value);
  if (isDirectiveObject(value)) return context.compileValue(value, pointer);
  reportNotStringOrDirective(value, pointer, context, "@replace value");
  return undefined;
}

/** Converts the value of `@replace` to text: numbers and booleans as written, null and missing as "", as in Segment. */
function replaceInput(value: unknown, pointer: string): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
    case "undefined":
      return "";
    default:
      if (value === null) return "";
      // Segment turns objects and arrays into "" without a word, but koala-replay rejects the event.
      throw new MappingRuntimeError(pointer, `@replace: the value must be a string, number or boolean, found ${describeValue(value)}`);
  }
}

/**
 * `@replace`: replaces a literal pattern, then optionally a second one in the result. The
 * replacement is inserted as written: `$&` and `$$` are not expanded, where Segment expands them.
 */
export const compileReplaceDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@replace", allowed: allowedKeys, required: ["pattern", "value"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const flags = readFlags(argument, pointer, context);
  const substitutions = readSubstitutions(argument, pointer, context, flags ?? "");
  const value = compileReplaceValue(argument.value, childPointer(pointer, "value"), context);
  if (flags === undefined || substitutions === undefined || value === undefined) return absent;

  return (payload) => {
    let text = replaceInput(value(payload), pointer);
    for (const { pattern, replacement } of substitutions) {
      text = text.replace(pattern, () => replacement);
    }
    return text;
  };
};
