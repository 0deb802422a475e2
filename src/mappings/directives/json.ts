import { checkArgumentObject, expectString } from "../arguments.js";
import { absent, type DirectiveCompiler } from "../context.js";
import { childPointer } from "../pointer.js";

function decode(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    // Text that is not JSON passes through unchanged, as in Segment.
    return value;
  }
}

/**
 * `@json`: `encode` gives the JSON text of the value. `decode` parses a string, returns it unchanged
 * when it is not JSON, and passes other values through. The mode is read without regard to case.
 * Literal values such as `false` and `0` are encoded, where Segment rejects them.
 */
export const compileJsonDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@json", allowed: ["mode", "value"], required: ["mode", "value"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const mode = expectString(argument.mode, childPointer(pointer, "mode"), context, {
    label: "@json mode",
    oneOf: ["encode", "decode"],
    ignoreCase: true,
  });
  const value = context.compileValue(argument.value, childPointer(pointer, "value"));
  if (mode === undefined) return absent;

  if (mode.toLowerCase() === "encode") {
    return (payload) => {
      const resolved = value(payload);
      return resolved === undefined ? undefined : JSON.stringify(resolved);
    };
  }
  return (payload) => decode(value(payload));
};
