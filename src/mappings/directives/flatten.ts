import { checkArgumentObject, expectBoolean, expectString } from "../arguments.js";
import { absent, type DirectiveCompiler } from "../context.js";
import { childPointer } from "../pointer.js";
import { isPlainObject, setOwn } from "../value-types.js";

function flattenInto(
  target: Record<string, unknown>,
  value: Record<string, unknown> | unknown[],
  prefix: string,
  separator: string,
  omitArrays: boolean,
): void {
  const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
  for (const key of keys) {
    const child: unknown = (value as Record<string | number, unknown>)[key];
    const name = prefix === "" ? String(key) : `${prefix}${separator}${key}`;
    if (isPlainObject(child) || (!omitArrays && Array.isArray(child))) {
      flattenInto(target, child, name, separator, omitArrays);
    } else {
      setOwn(target, name, child);
    }
  }
}

/**
 * `@flatten`: an object (and its arrays, unless `omitArrays`) as one level of keys joined by the
 * separator. Empty objects and arrays leave no key, and a later duplicate key wins, as in Segment.
 * A value that cannot be flattened (a string, a number, null) is returned as it is, where Segment
 * returns `{"": value}`. The separator is required, because Segment fails without it at run time.
 */
export const compileFlattenDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@flatten", allowed: ["value", "separator", "omitArrays"], required: ["value", "separator"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const separator = expectString(argument.separator, childPointer(pointer, "separator"), context, {
    label: "@flatten separator",
    minLength: 1,
  });
  const omitArraysValid =
    argument.omitArrays === undefined ||
    expectBoolean(argument.omitArrays, childPointer(pointer, "omitArrays"), context, "@flatten omitArrays");
  const value = context.compileValue(argument.value, childPointer(pointer, "value"));
  if (separator === undefined || !omitArraysValid) return absent;
  const omitArrays = argument.omitArrays === true;

  return (payload) => {
    const resolved = value(payload);
    if (!isPlainObject(resolved) && (omitArrays || !Array.isArray(resolved))) return resolved;
    const flat: Record<string, unknown> = {};
    flattenInto(flat, resolved, "", separator, omitArrays);
    return flat;
  };
};
