import { checkArgumentObject, isDirectiveObject } from "../arguments.js";
import { absent, type CompileContext, type DirectiveCompiler, type Evaluate } from "../context.js";
import { childPointer } from "../pointer.js";
import { describeValue, isPlainObject } from "../value-types.js";

function compileStage(value: unknown, pointer: string, context: CompileContext, key: string): Evaluate | undefined {
  if (isPlainObject(value)) return context.compileValue(value, pointer);
  const found = isDirectiveObject(value) ? "a directive" : describeValue(value);
  context.report({ pointer, message: `@transform ${key} must be an object or a directive, found ${found}`, expected: "an object or a directive", found });
  return undefined;
}

/** Builds the evaluator of `@transform` from its two compiled stages. */
export function transformEvaluator(apply: Evaluate, mapping: Evaluate): Evaluate {
  return (payload) => mapping(apply(payload));
}

/**
 * `@transform`: maps the event through `apply`, then maps that result through `mapping`. The second
 * stage reads only what the first produced, without its missing values.
 */
export const compileTransformDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@transform", allowed: ["apply", "mapping"], required: ["apply", "mapping"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const apply = compileStage(argument.apply, childPointer(pointer, "apply"), context, "apply");
  const mapping = compileStage(argument.mapping, childPointer(pointer, "mapping"), context, "mapping");
  if (apply === undefined || mapping === undefined) return absent;
  return transformEvaluator(apply, mapping);
};
