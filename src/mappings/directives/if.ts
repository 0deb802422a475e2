import { checkArgumentObject } from "../arguments.js";
import { absent, type DirectiveCompiler, type Evaluate } from "../context.js";
import { childPointer } from "../pointer.js";
import { templateText } from "../template-text.js";

/**
 * Checks whether a value counts as blank for `@if`: missing, null, or equal to "" under JavaScript's loose
 * equality, which Segment uses, so 0, false and [] are blank while "0" and " " are not.
 */
export function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  switch (typeof value) {
    case "string":
      return value === "";
    case "number":
      return value === 0;
    case "boolean":
      return value === false;
    case "object":
      return Array.isArray(value) && templateText(value) === "";
    default:
      return false;
  }
}

type Condition = (payload: unknown) => boolean;

function compileCondition(argument: Record<string, unknown>, pointer: string, compile: (value: unknown, pointer: string) => Evaluate): Condition {
  if (argument.exists !== undefined) {
    // A literal `false` means "no", where Segment throws. Any other literal exists unless it is null.
    if (argument.exists === false) return () => false;
    const value = compile(argument.exists, childPointer(pointer, "exists"));
    return (payload) => {
      const resolved = value(payload);
      return resolved !== undefined && resolved !== null;
    };
  }
  const value = compile(argument.blank, childPointer(pointer, "blank"));
  return (payload) => !isBlank(value(payload));
}

/**
 * `@if`: `then` when the condition holds, else `else`. A missing branch gives no value. `exists`
 * holds when the value is neither missing nor null; `blank` holds when it is not blank. A present
 * `else` is used even when it is falsy (`0`, `null`), where Segment drops it.
 */
export const compileIfDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@if", allowed: ["exists", "blank", "then", "else"], required: [] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  if (argument.exists === undefined && argument.blank === undefined) {
    context.report({
      pointer,
      message: '@if requires a condition: the key "exists" or the key "blank"',
      expected: 'an object with "exists" or "blank"',
      found: "neither key",
    });
    return absent;
  }

  const compile = context.compileValue;
  const condition = compileCondition(argument, pointer, compile);
  const whenTrue = argument.then === undefined ? absent : compile(argument.then, childPointer(pointer, "then"));
  const whenFalse = argument.else === undefined ? absent : compile(argument.else, childPointer(pointer, "else"));
  return (payload) => (condition(payload) ? whenTrue(payload) : whenFalse(payload));
};
