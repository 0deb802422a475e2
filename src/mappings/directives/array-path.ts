import { isDirectiveObject, reportNotStringOrDirective } from "../arguments.js";
import { absent, type DirectiveCompiler, type Evaluate } from "../context.js";
import { compilePathGetter, describePathProblem, parsePath } from "../path.js";
import { childPointer } from "../pointer.js";
import { describeValue, isPlainObject } from "../value-types.js";

function compileRoot(root: unknown, pointer: string, context: Parameters<DirectiveCompiler>[2]): Evaluate | undefined {
  if (typeof root === "string") {
    const parsed = parsePath(root);
    if (parsed.ok) return compilePathGetter(parsed.segments);
    context.report({ pointer, message: `invalid path ${JSON.stringify(root)}: ${describePathProblem(parsed)}`, expected: "a path such as $.properties.products" });
    return undefined;
  }
  if (isDirectiveObject(root)) return context.compileValue(root, pointer);
  reportNotStringOrDirective(root, pointer, context, "@arrayPath path");
  return undefined;
}

/**
 * `@arrayPath`: `[path, itemShape]`. When the path finds an object or an array and the item shape is a
 * non-empty object, each item (a lone object counts as one item) is mapped through the shape, with
 * paths relative to the item. Otherwise the value at the path is returned as it is. Elements after
 * the second are ignored, as in Segment.
 */
export const compileArrayPathDirective: DirectiveCompiler = (argument, pointer, context) => {
  if (!Array.isArray(argument) || argument.length === 0) {
    const found = Array.isArray(argument) ? "an empty array" : describeValue(argument);
    context.report({
      pointer,
      message: `@arrayPath takes [path, itemShape], found ${found}`,
      expected: "an array [path] or [path, itemShape]",
      found,
    });
    return absent;
  }
  const root = compileRoot(argument[0], childPointer(pointer, 0), context);
  const shapeValue: unknown = argument[1];
  const shape = shapeValue === undefined ? absent : context.compileValue(shapeValue, childPointer(pointer, 1));
  if (root === undefined) return absent;
  if (!isPlainObject(shapeValue) || Object.keys(shapeValue).length === 0) return root;

  return (payload) => {
    const found = root(payload);
    if (typeof found !== "object" || found === null) return found;
    const items = Array.isArray(found) ? found : [found];
    return items.map((item) => {
      const mapped = shape(item);
      return mapped === undefined ? null : mapped;
    });
  };
};
