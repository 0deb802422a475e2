import { checkArgumentObject, expectString, isDirectiveObject, reportNotStringOrDirective } from "../arguments.js";
import { absent, constant, type DirectiveCompiler, type Evaluate } from "../context.js";
import { childPointer } from "../pointer.js";

const operators = ["lower", "upper"] as const;
type CaseOperator = (typeof operators)[number];

function convert(text: string, operator: CaseOperator): string {
  switch (operator) {
    case "lower":
      return text.toLowerCase();
    case "upper":
      return text.toUpperCase();
    default: {
      const unreachable: never = operator;
      return unreachable;
    }
  }
}

function compileCaseValue(value: unknown, pointer: string, context: Parameters<DirectiveCompiler>[2]): Evaluate | undefined {
  if (value === undefined) return absent;
  if (typeof value === "string") return constant(value);
  if (isDirectiveObject(value)) return context.compileValue(value, pointer);
  reportNotStringOrDirective(value, pointer, context, "@case value");
  return undefined;
}

/**
 * `@case`: a string converted to lower or upper case, without locale rules (`ß` becomes `SS`). Any
 * other value passes unchanged. The operator is checked when the mapping is loaded, where Segment
 * only checks it when the value happens to be a string.
 */
export const compileCaseDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@case", allowed: ["operator", "value"], required: ["operator"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const operator = expectString(argument.operator, childPointer(pointer, "operator"), context, {
    label: "@case operator",
    oneOf: operators,
  }) as CaseOperator | undefined;
  const value = compileCaseValue(argument.value, childPointer(pointer, "value"), context);
  if (operator === undefined || value === undefined) return absent;

  return (payload) => {
    const resolved = value(payload);
    return typeof resolved === "string" ? convert(resolved, operator) : resolved;
  };
};
