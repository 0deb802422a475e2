/** One problem of a config file. */
export interface ConfigProblem {
  /** JSON pointer (RFC 6901) into the config. The empty pointer "" is the whole file. */
  pointer: string;
  message: string;
  expected?: string;
  found?: string;
  /** 1-based position in the file of the pointer's key (or of its nearest ancestor present), or of a JSON syntax error. */
  line?: number;
  column?: number;
}

/**
 * Formats a problem as its pointer and position on one line and its message on the lines below,
 * indented further, so that where one problem ends and the next starts shows however the message
 * wraps. Every line of the message keeps its own indentation, such as a trigger and its caret.
 */
function formatProblem(problem: ConfigProblem): string {
  const position = problem.line === undefined ? "" : `line ${problem.line}, column ${problem.column ?? 1}`;
  const { pointer } = problem;
  const location = pointer !== "" && position !== "" ? `${pointer} (${position})` : pointer || position;
  const message = problem.message
    .split("\n")
    .map((line) => (line === "" ? line : `    ${line}`))
    .join("\n");
  return location === "" ? message : `  ${location}:\n${message}`;
}

/** Thrown when a config file cannot be used, with every problem found in it. */
export class ConfigError extends Error {
  /** The config file, as given or found. */
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`Invalid config ${file} (${count}):\n${problems.map(formatProblem).join("\n")}`);
    this.name = "ConfigError";
    this.file = file;
    this.problems = problems;
  }
}
