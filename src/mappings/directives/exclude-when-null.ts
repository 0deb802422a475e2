import type { DirectiveCompiler } from "../context.js";
import { isPlainObject, setOwn } from "../value-types.js";

/** Copies an object without its null members, at every depth of nested objects. Arrays are kept as they are, as in Segment. */
function withoutNulls(object: Record<string, unknown>): Record<string, unknown> {
  const cleaned: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === null) continue;
    setOwn(cleaned, key, isPlainObject(value) ? withoutNulls(value) : value);
  }
  return cleaned;
}

/** `@excludeWhenNull`: no value when its value is null. An object loses its null members. */
export const compileExcludeWhenNullDirective: DirectiveCompiler = (argument, pointer, context) => {
  const value = context.compileValue(argument, pointer);
  return (payload) => {
    const resolved = value(payload);
    if (resolved === null) return undefined;
    return isPlainObject(resolved) ? withoutNulls(resolved) : resolved;
  };
};
