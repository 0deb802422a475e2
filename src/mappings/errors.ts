/** One problem found in a mapping when it is compiled. */
export interface MappingProblem {
  /** JSON pointer (RFC 6901) into the mapping. The empty pointer "" is the mapping itself. */
  pointer: string;
  message: string;
  expected?: string;
  found?: string;
}

/** Formats a pointer for people: the root reads as "(mapping root)" rather than an empty string. */
export function displayPointer(pointer: string): string {
  return pointer === "" ? "(mapping root)" : pointer;
}

/** Thrown by `compileMapping` with every problem of the mapping, not only the first. */
export class MappingValidationError extends Error {
  readonly problems: readonly MappingProblem[];

  constructor(problems: readonly MappingProblem[]) {
    const lines = problems.map((problem) => `  ${displayPointer(problem.pointer)}: ${problem.message}`);
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`Invalid mapping (${count}):\n${lines.join("\n")}`);
    this.name = "MappingValidationError";
    this.problems = problems;
  }
}

/**
 * Thrown by `apply` when a mapping that compiled cannot be applied to one event, for example when a
 * path computed from the event is not a string. The event is invalid, and other events are unaffected.
 */
export class MappingRuntimeError extends Error {
  /** JSON pointer of the directive that failed. */
  readonly pointer: string;
  readonly reason: string;

  constructor(pointer: string, reason: string) {
    super(`${displayPointer(pointer)}: ${reason}`);
    this.name = "MappingRuntimeError";
    this.pointer = pointer;
    this.reason = reason;
  }
}

/** Checks whether an error is V8's stack overflow, which values nested thousands of levels deep cause in recursive code. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && error.message.includes("call stack");
}
