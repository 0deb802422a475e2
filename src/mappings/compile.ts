import type { SegmentEvent } from "../inputs/record.js";
import { compileValue } from "./compile-value.js";
import type { CompileContext, Evaluate } from "./context.js";
import { transformEvaluator } from "./directives/transform.js";
import { isStackOverflow, MappingRuntimeError, MappingValidationError, type MappingProblem } from "./errors.js";
import { childPointer } from "./pointer.js";
import { describeValue, isPlainObject } from "./value-types.js";

/** A mapping compiled once, to apply to any number of events. */
export interface CompiledMapping {
  /**
   * Maps one event to the action's payload. Missing values leave their key out. The payload may share
   * nested objects and arrays with the event (`$.properties` is the event's own object), so treat
   * both as read-only. Throws `MappingRuntimeError` when this event cannot be mapped.
   */
  apply(event: SegmentEvent): Record<string, unknown>;
}

/**
 * Key of a root directive in mappings exported from Segment: its directive (a `@transform` with only
 * `apply`) runs first, and the mapping's other keys become that transform's `mapping`.
 */
export const rootDirectiveKey = "__segment_internal_directive";

function createContext(problems: MappingProblem[]): CompileContext {
  const context: CompileContext = {
    report: (problem) => {
      problems.push(problem);
    },
    compileValue: (value, pointer) => compileValue(value, pointer, context),
  };
  return context;
}

function compileRootDirective(mapping: Record<string, unknown>, context: CompileContext): Evaluate {
  const pointer = childPointer("", rootDirectiveKey);
  const rootDirective = mapping[rootDirectiveKey];
  const transform = isPlainObject(rootDirective) ? rootDirective["@transform"] : undefined;
  const keys = isPlainObject(rootDirective) ? Object.keys(rootDirective) : [];
  if (keys.length !== 1 || !isPlainObject(transform) || Object.keys(transform).join() !== "apply") {
    context.report({
      pointer,
      message: `${rootDirectiveKey} must contain {"@transform": {"apply": …}}, and the other keys of the mapping become its "mapping"`,
      expected: '{"@transform": {"apply": …}}',
      found: describeValue(rootDirective),
    });
    return () => undefined;
  }
  const customerMapping: Record<string, unknown> = {};
  for (const key of Object.keys(mapping)) {
    if (key !== rootDirectiveKey) customerMapping[key] = mapping[key];
  }
  const apply = context.compileValue(transform.apply, childPointer(childPointer(pointer, "@transform"), "apply"));
  return transformEvaluator(apply, context.compileValue(customerMapping, ""));
}

function checkedResult(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (isPlainObject(value)) return value;
  throw new MappingRuntimeError("", `a mapping must produce an object, found ${describeValue(value)}`);
}

function compileRootValue(mapping: unknown, context: CompileContext): Evaluate {
  if (!isPlainObject(mapping)) {
    const found = describeValue(mapping);
    context.report({ pointer: "", message: `a mapping must be an object, found ${found}`, expected: "an object", found });
    return () => undefined;
  }
  if (Object.hasOwn(mapping, rootDirectiveKey)) return compileRootDirective(mapping, context);
  return context.compileValue(mapping, "");
}

function compileRoot(mapping: unknown, problems: MappingProblem[]): Evaluate {
  try {
    return compileRootValue(mapping, createContext(problems));
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
    problems.push({ pointer: "", message: "the mapping is nested too deeply to compile (the call stack overflowed)" });
    return () => undefined;
  }
}

/**
 * Compiles a mapping (field name → mapping value written in Segment's directives) once. Every problem
 * is collected before throwing `MappingValidationError`. The mapping given is never modified, and
 * nothing in it runs as JavaScript: `@liquid` templates are interpreted by liquidjs.
 */
export function compileMapping(mapping: unknown): CompiledMapping {
  const problems: MappingProblem[] = [];
  const evaluate = compileRoot(mapping, problems);
  if (problems.length > 0) throw new MappingValidationError(problems);
  return {
    apply: (event) => {
      try {
        return checkedResult(evaluate(event));
      } catch (error) {
        if (!isStackOverflow(error)) throw error;
        throw new MappingRuntimeError("", "the event is nested too deeply to map (the call stack overflowed)");
      }
    },
  };
}
