import { isDirectiveObject, reportNotStringOrDirective } from "../arguments.js";
import { absent, type DirectiveCompiler, type Evaluate } from "../context.js";
import { MappingRuntimeError } from "../errors.js";
import { compilePathGetter, describePathProblem, parsePath, type PathGetter } from "../path.js";
import { describeValue } from "../value-types.js";

/** `@path`: the value at a path of the event. The path may itself be computed by a directive. */
export const compilePathDirective: DirectiveCompiler = (argument, pointer, context) => {
  if (typeof argument === "string") {
    const parsed = parsePath(argument);
    if (parsed.ok) return compilePathGetter(parsed.segments);
    context.report({
      pointer,
      message: `invalid path ${JSON.stringify(argument)}: ${describePathProblem(parsed)}`,
      expected: "a path such as $.traits.email or $.properties.items[0]",
      found: describeValue(argument),
    });
    return absent;
  }
  if (isDirectiveObject(argument)) {
    return computedPath(context.compileValue(argument, pointer), pointer);
  }
  reportNotStringOrDirective(argument, pointer, context, "@path");
  return absent;
};

/** Builds the evaluator of a path computed per event. It keeps the last path compiled, because it rarely changes. */
function computedPath(computePath: Evaluate, pointer: string): Evaluate {
  let lastPath: string | undefined;
  let lastGetter: PathGetter = absent;
  return (payload) => {
    const path = computePath(payload);
    if (typeof path !== "string") {
      throw new MappingRuntimeError(pointer, `@path: the computed path must be a string, found ${describeValue(path)}`);
    }
    if (path !== lastPath) {
      const parsed = parsePath(path);
      if (!parsed.ok) {
        // The path comes from the event, so it goes after ", found", in full, and invalid events group by the problem.
        const found = `string ${JSON.stringify(path)} at position ${parsed.position}`;
        throw new MappingRuntimeError(pointer, `@path: invalid computed path: ${parsed.reason}, found ${found}`);
      }
      lastGetter = compilePathGetter(parsed.segments);
      lastPath = path;
    }
    return lastGetter(payload);
  };
}
