import { checkArgumentObject, expectString } from "../arguments.js";
import { absent, type DirectiveCompiler, type Evaluate } from "../context.js";
import { MappingRuntimeError } from "../errors.js";
import { childPointer } from "../pointer.js";
import { describeValue, isPlainObject, setOwn } from "../value-types.js";

function compileObjects(objects: unknown, pointer: string, context: Parameters<DirectiveCompiler>[2]): Evaluate[] | undefined {
  if (!Array.isArray(objects)) {
    context.report({ pointer, message: `@merge objects must be an array, found ${describeValue(objects)}`, expected: "an array", found: describeValue(objects) });
    return undefined;
  }
  const compiled: Evaluate[] = [];
  let valid = true;
  objects.forEach((element: unknown, index) => {
    const elementPointer = childPointer(pointer, index);
    if (!isPlainObject(element)) {
      valid = false;
      context.report({
        pointer: elementPointer,
        message: `@merge objects must each be an object or a directive, found ${describeValue(element)}`,
        expected: "an object or a directive",
        found: describeValue(element),
      });
      return;
    }
    compiled.push(context.compileValue(element, elementPointer));
  });
  return valid ? compiled : undefined;
}

function mergeInto(target: Record<string, unknown>, value: unknown, pointer: string): void {
  // Missing, null, numbers and booleans add nothing, as with Object.assign in Segment.
  if (value === undefined || value === null || typeof value === "number" || typeof value === "boolean") return;
  if (!isPlainObject(value)) {
    // Segment spreads strings and arrays into index keys ("0", "1", …), but koala-replay rejects the event.
    throw new MappingRuntimeError(pointer, `@merge: every object must resolve to an object, found ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) setOwn(target, key, value[key]);
}

/**
 * `@merge`: a shallow merge of objects. With `right` later objects win, with `left` earlier ones do.
 * A key that an object lacks, or whose value is missing, keeps the value of the others.
 */
export const compileMergeDirective: DirectiveCompiler = (argument, pointer, context) => {
  const shape = { directive: "@merge", allowed: ["direction", "objects"], required: ["direction", "objects"] };
  if (!checkArgumentObject(argument, pointer, context, shape)) return absent;
  const direction = expectString(argument.direction, childPointer(pointer, "direction"), context, {
    label: "@merge direction",
    oneOf: ["left", "right"],
    ignoreCase: true,
  });
  const objects = compileObjects(argument.objects, childPointer(pointer, "objects"), context);
  if (direction === undefined || objects === undefined) return absent;
  const ordered = direction.toLowerCase() === "left" ? [...objects].reverse() : objects;

  return (payload) => {
    const merged: Record<string, unknown> = {};
    for (const object of ordered) mergeInto(merged, object(payload), pointer);
    return merged;
  };
};
