/** One problem of a config file. */
export interface ConfigProblem {
  /** JSON pointer (RFC 6901) into the config. The empty pointer "" is the whole file. */
  pointer: string;
  message: string;
  expected?: string;
  found?: string;
  /** 1-based position in the file, given for JSON syntax errors. */
  line?: number;
  column?: number;
}

function formatProblem(problem: ConfigProblem): string {
  const position = problem.line === undefined ? "" : `line ${problem.line}, column ${problem.column ?? 1}: `;
  const pointer = problem.pointer === "" ? "" : `${problem.pointer}: `;
  return `  ${position}${pointer}${problem.message}`;
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
