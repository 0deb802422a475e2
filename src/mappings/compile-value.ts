import { absent, constant, type CompileContext, type Evaluate } from "./context.js";
import { childPointer } from "./pointer.js";
import { directiveCompilers, directiveNames, metadataKey } from "./registry.js";
import { suggestionHint } from "./suggest.js";
import { isPlainObject, kindOf, setOwn } from "./value-types.js";

/** Builds a fresh array per event. A missing element becomes null, which keeps positions, as in Segment's JSON output. */
function compileArray(values: readonly unknown[], pointer: string, context: CompileContext): Evaluate {
  const elements = values.map((value, index) => context.compileValue(value, childPointer(pointer, index)));
  return (payload) => {
    const output = new Array<unknown>(elements.length);
    for (let index = 0; index < elements.length; index++) {
      const value = elements[index]!(payload);
      output[index] = value === undefined ? null : value;
    }
    return output;
  };
}

/** Builds a fresh object per event, in the mapping's key order, leaving out keys whose value is missing. */
function compileObject(object: Record<string, unknown>, pointer: string, context: CompileContext): Evaluate {
  const keys = Object.keys(object);
  const values = keys.map((key) => context.compileValue(object[key], childPointer(pointer, key)));
  const hasProtoKey = keys.includes("__proto__");
  return (payload) => {
    const output: Record<string, unknown> = {};
    for (let index = 0; index < keys.length; index++) {
      const value = values[index]!(payload);
      if (value === undefined) continue;
      if (hasProtoKey) setOwn(output, keys[index]!, value);
      else output[keys[index]!] = value;
    }
    return output;
  };
}

function compileDirective(object: Record<string, unknown>, keys: readonly string[], pointer: string, context: CompileContext): Evaluate {
  const directiveKeys = keys.filter((key) => key.startsWith("@"));
  const otherKeys = keys.filter((key) => !key.startsWith("@") && key !== metadataKey);
  if (directiveKeys.length > 1) {
    context.report({
      pointer,
      message: `an object can contain only one directive, found ${directiveKeys.length}: ${directiveKeys.join(", ")}. Nest one inside the other, or split them into separate fields`,
      expected: "exactly one @-prefixed key",
      found: directiveKeys.join(", "),
    });
    return absent;
  }
  const name = directiveKeys[0]!;
  if (otherKeys.length > 0) {
    context.report({
      pointer,
      message: `the directive ${name} cannot share its object with other keys (${otherKeys.join(", ")}). Move them to a separate object`,
      expected: `only ${name} (and ${metadataKey})`,
      found: keys.join(", "),
    });
    return absent;
  }
  const compiler = directiveCompilers.get(name);
  if (compiler === undefined) {
    context.report({
      pointer: childPointer(pointer, name),
      message: `unknown directive ${name}.${suggestionHint(name, directiveNames)} Known directives: ${directiveNames.join(", ")}`,
      expected: "a known directive",
      found: name,
    });
    return absent;
  }
  return compiler(object[name], childPointer(pointer, name), context);
}

/** Compiles any mapping value: a JSON literal, an array or object of mapping values, or a directive. */
export function compileValue(value: unknown, pointer: string, context: CompileContext): Evaluate {
  if (Array.isArray(value)) return compileArray(value, pointer, context);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.some((key) => key.startsWith("@"))) return compileDirective(value, keys, pointer, context);
    return compileObject(value, pointer, context);
  }
  switch (kindOf(value)) {
    case "string":
    case "number":
    case "boolean":
    case "null":
      return constant(value);
    case "undefined":
      return absent;
    default:
      context.report({ pointer, message: `a mapping can contain only JSON values, found a ${typeof value}`, expected: "a JSON value", found: typeof value });
      return absent;
  }
}
