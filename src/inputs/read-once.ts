import { fstatSync, statSync, type Stats } from "node:fs";

/** An input that can be read only once, and what kind of input it is, for messages. */
export interface ReadOnceInput {
  /** The input as the user named it, `-` for stdin. */
  input: string;
  /** "standard input", "a named pipe", "a pipe" or "a character device". */
  kind: string;
}

/**
 * Returns what kind of read-once input `path` is, judged from its `stat`, or undefined for a
 * regular file, a directory or a socket. A pipe or a character device gives its bytes to the first
 * reader only, and cannot be read from its start again or at a position. A pipe opened through
 * `/dev/fd/N` or `/proc/…/fd/N` usually comes from process substitution (`<(zcat a.gz)` in bash). A
 * socket cannot be opened by its path at all, so its read fails with `describeSocketInput`.
 */
export function readOnceKindOf(path: string, stats: Stats): string | undefined {
  if (stats.isFIFO()) {
    return /^\/(dev|proc\/[^/]+)\/fd\/\d+$/.test(path) ? "a pipe" : "a named pipe";
  }
  if (stats.isCharacterDevice()) {
    return "a character device";
  }
  return undefined;
}

/**
 * Returns what kind of read-once input `input` is: stdin (`-`), a pipe or a character device.
 * Returns undefined for a regular file, a directory, and a path that `stat` cannot examine,
 * whose read reports the problem later. `stat` does not open the path, so a pipe loses no bytes.
 */
export function readOnceKind(input: string): string | undefined {
  if (input === "-") {
    return "standard input";
  }
  let stats: Stats | undefined;
  try {
    stats = statSync(input, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return stats === undefined ? undefined : readOnceKindOf(input, stats);
}

/** Returns the inputs that can be read only once, in the order given. */
export function findReadOnceInputs(inputs: readonly string[]): ReadOnceInput[] {
  const found: ReadOnceInput[] = [];
  for (const input of inputs) {
    const kind = readOnceKind(input);
    if (kind !== undefined) {
      found.push({ input, kind });
    }
  }
  return found;
}

/**
 * Names read-once inputs for a sentence that goes on with "can be read only once": "standard
 * input", "/dev/fd/63 (a pipe)", or several of these joined with commas and "and".
 */
export function nameReadOnceInputs(inputs: readonly ReadOnceInput[]): string {
  const names = inputs.map((input) => (input.input === "-" ? "standard input" : `${input.input} (${input.kind})`));
  if (names.length <= 1) {
    return names[0] ?? "";
  }
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] as string}`;
}

/** Checks whether `stats` describe the file open as standard input (file descriptor 0). */
export function isStandardInput(stats: Stats | undefined): boolean {
  if (stats === undefined) {
    return false;
  }
  let standardInput: Stats;
  try {
    standardInput = fstatSync(0);
  } catch {
    // Standard input is closed.
    return false;
  }
  return standardInput.dev === stats.dev && standardInput.ino === stats.ino;
}
