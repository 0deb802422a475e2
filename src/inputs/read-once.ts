import { statSync, type Stats } from "node:fs";

/** An input that can be read only once, and what kind of input it is, for messages. */
export interface ReadOnceInput {
  /** The input as the user named it, `-` for stdin. */
  input: string;
  /** "standard input", "a named pipe", "a pipe", "a character device" or "a socket". */
  kind: string;
}

/**
 * Returns what kind of read-once input `path` is, judged from its `stat`, or undefined for a
 * regular file or a directory. A pipe, a character device or a socket gives its bytes to the first
 * reader only, and cannot be read from its start again or at a position. A pipe opened through
 * `/dev/fd/N` or `/proc/…/fd/N` usually comes from process substitution (`<(zcat a.gz)` in bash).
 */
export function readOnceKindOf(path: string, stats: Stats): string | undefined {
  if (stats.isFIFO()) {
    return /^\/(dev|proc\/[^/]+)\/fd\/\d+$/.test(path) ? "a pipe" : "a named pipe";
  }
  if (stats.isCharacterDevice()) {
    return "a character device";
  }
  if (stats.isSocket()) {
    return "a socket";
  }
  return undefined;
}

/**
 * Returns what kind of read-once input `input` is: stdin (`-`), a pipe, a character device or a
 * socket. Returns undefined for a regular file, a directory, and a path that `stat` cannot examine,
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
