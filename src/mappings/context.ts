import type { MappingProblem } from "./errors.js";

/** A compiled mapping value: returns the value for one event, or undefined when it is absent. */
export type Evaluate = (payload: unknown) => unknown;

/** What a directive compiler receives besides its argument. */
export interface CompileContext {
  /** Records a problem and lets compilation go on, so that every problem is reported at once. */
  report(problem: MappingProblem): void;
  /** Compiles a nested mapping value (raw JSON, possibly holding directives) found at `pointer`. */
  compileValue(value: unknown, pointer: string): Evaluate;
}

/**
 * Compiles the argument of one directive (the value under `@name`) found at `pointer`. It reports
 * every problem through the context and returns an evaluator even then, so that compilation can
 * continue; `compileMapping` throws once it has seen them all.
 */
export type DirectiveCompiler = (argument: unknown, pointer: string, context: CompileContext) => Evaluate;

/** The evaluator of a value that is never present, used where a part of the mapping is invalid. */
export const absent: Evaluate = () => undefined;

export function constant(value: unknown): Evaluate {
  return () => value;
}
