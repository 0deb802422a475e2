import { open, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { defaultConfigFileName } from "../mappings/config/load-config.js";
import { escapeControlCharacters } from "../reporting/style.js";
import { readOnceKindOf } from "./read-once.js";

/** One stream to read: a file found directly or in a directory, or stdin (`-`). */
export interface InputSource {
  path: string;
  /** The directory the user named, when the file was found by walking it. */
  foundIn?: string;
  /**
   * Kind of a read-once input: "standard input", "a named pipe", "a pipe" (such as `<(…)`) or "a
   * character device". Undefined for a regular file, and for a socket, whose read fails.
   */
  readOnce?: string;
}

/** A file met while walking a directory that was not read, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

export class InputNotFoundError extends Error {
  readonly path: string;

  constructor(path: string, cause: unknown) {
    // A newline in the name would end the message early and print the rest as a line of its own.
    super(`input not found: ${escapeControlCharacters(path)}`, { cause });
    this.name = "InputNotFoundError";
    this.path = path;
  }
}

/**
 * File names read when walking a directory: S3 archive objects (`….gz`), JSON, JSONL and CSV, each
 * possibly gzip-compressed. Anything else in a directory (`dummy-object.txt`, `.DS_Store`, a hidden
 * folder) is skipped and reported, and so are koala-replay.config.json and the JSON reports of
 * koala-replay, which are recognised by their content. A file named directly is always read.
 */
const ARCHIVE_NAME = /\.(gz|jsonl|ndjson|json|csv)$/i;

/** Names of uncompressed JSON files, which may be a report that koala-replay wrote. */
const JSON_NAME = /\.(jsonl|ndjson|json)$/i;

/**
 * The start of a JSON report of koala-replay (`send --report`, `send --json`, `inspect --json`):
 * its first keys are `reportVersion` and `tool`, whose `name` is koala-replay. Segment's event
 * spec defines neither key.
 */
const REPORT_START = /^\uFEFF?\s*\{\s*"reportVersion"\s*:\s*\d+\s*,\s*"tool"\s*:\s*\{\s*"name"\s*:\s*"koala-replay"/;

/** Bytes read from the start of a JSON file to recognise a report, more than `REPORT_START` needs with the usual indentation. */
const REPORT_START_BYTES = 512;

/**
 * Checks whether a walk of a folder reads the file at `relativePath` inside it, by the rules of
 * `walkDirectory`: no hidden folder on the way, and a visible archive name other than the config's.
 * Reports, which the walk recognises by their content, are not considered.
 */
export function isReadByDirectoryWalk(relativePath: string): boolean {
  const parts = relativePath.split(sep).filter((part) => part !== "");
  const name = parts.pop();
  if (name === undefined || parts.some((part) => part.startsWith("."))) {
    return false;
  }
  return !name.startsWith(".") && ARCHIVE_NAME.test(name) && name !== defaultConfigFileName;
}

/** Expands the inputs the user named into the files to read, walking directories recursively in name order. */
export async function expandInputs(inputs: readonly string[]): Promise<{ sources: InputSource[]; skipped: SkippedFile[] }> {
  const sources: InputSource[] = [];
  const skipped: SkippedFile[] = [];
  for (const input of inputs) {
    if (input === "-") {
      sources.push({ path: "-", readOnce: "standard input" });
      continue;
    }
    const info = await stat(input).catch((error: unknown) => {
      throw new InputNotFoundError(input, error);
    });
    const readOnce = readOnceKindOf(input, info);
    if (info.isDirectory()) {
      await walkDirectory(input, input, sources, skipped);
    } else if (readOnce !== undefined) {
      sources.push({ path: input, readOnce });
    } else {
      sources.push({ path: input });
    }
  }
  return { sources: await dropRepeatedFiles(sources, skipped), skipped };
}

/**
 * Keeps the first of several sources that are one file (a folder and a file in it, `./a` and `a`,
 * a link and its target), one pipe, or stdin. Reading a file twice in one run would only send its
 * events again, and the checkpoint, which tracks each file's lines once, could not tell the two
 * reads apart. A pipe or stdin gives its bytes to one reader only.
 */
async function dropRepeatedFiles(sources: readonly InputSource[], skipped: SkippedFile[]): Promise<InputSource[]> {
  const firstByFile = new Map<string, string>();
  const unique: InputSource[] = [];
  for (const source of sources) {
    const file = await fileIdentity(source);
    const first = firstByFile.get(file);
    if (first === undefined) {
      firstByFile.set(file, source.path);
      unique.push(source);
    } else if (file === "-") {
      skipped.push({ path: source.path, reason: "stdin is read once" });
    } else {
      const kind = source.readOnce === undefined ? "file" : source.readOnce.replace(/^an? /, "");
      skipped.push({ path: source.path, reason: `the same ${kind} as ${first}, which is read once` });
    }
  }
  return unique;
}

/**
 * Returns a key that is the same for every name of one file. A pipe from `<(…)` has no path that
 * `realpath` can resolve (`/dev/fd/63` links to `pipe:[…]`), and neither has a socket on stdin, so
 * read-once inputs and sockets are known by device and inode.
 */
async function fileIdentity(source: InputSource): Promise<string> {
  if (source.path === "-") {
    return "-";
  }
  const found = await stat(source.path);
  if (source.readOnce !== undefined || found.isSocket()) {
    return `inode ${found.dev}:${found.ino}`;
  }
  return realpath(source.path);
}

async function walkDirectory(directory: string, root: string, sources: InputSource[], skipped: SkippedFile[]): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true });
  // Code-unit order, the same on every machine and locale, so the walk and its checkpoint are stable.
  entries.sort((left, right) => compareNames(left.name, right.name));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    const linkTarget = entry.isSymbolicLink() ? await linkTargetKind(path) : undefined;
    if (entry.isDirectory() && entry.name.startsWith(".")) {
      // Hidden folders include .koala-replay, where a run in this folder keeps its state and dead-letter files.
      skipped.push({ path, reason: "a hidden folder, which a directory walk does not enter; name a file in it to read that file" });
    } else if (entry.isDirectory()) {
      await walkDirectory(path, root, sources, skipped);
    } else if (entry.isSymbolicLink() && linkTarget !== "file") {
      skipped.push({ path, reason: linkSkipReason(linkTarget) });
    } else if (!entry.isFile() && !entry.isSymbolicLink()) {
      skipped.push({ path, reason: "not a regular file" });
    } else if (entry.name === defaultConfigFileName) {
      // The config usually sits next to the archives, in the folder the command runs in (`send .`).
      skipped.push({ path, reason: "a koala-replay config file, not events; name it to read it as events anyway" });
    } else if (entry.name.startsWith(".") || !ARCHIVE_NAME.test(entry.name)) {
      skipped.push({ path, reason: "not an archive (a directory walk reads .gz, .json, .jsonl, .ndjson and .csv files; name the file to read it anyway)" });
    } else if (JSON_NAME.test(entry.name) && (await isKoalaReplayReport(path))) {
      // A --report written into an input folder would otherwise be read as events by the next run.
      skipped.push({ path, reason: "a koala-replay report (--report or --json output), not events; name it to read it as events anyway" });
    } else {
      sources.push({ path, foundIn: root });
    }
  }
}

/** Kind of the target of a symbolic link met in a walk. A link to a regular file is read like the file. */
type LinkTarget = "file" | "folder" | "missing" | "other";

async function linkTargetKind(path: string): Promise<LinkTarget> {
  try {
    const target = await stat(path);
    if (target.isFile()) {
      return "file";
    }
    return target.isDirectory() ? "folder" : "other";
  } catch {
    return "missing";
  }
}

function linkSkipReason(kind: LinkTarget | undefined): string {
  switch (kind) {
    case "folder":
      // Links to folders can form loops, which a walk that followed them would never leave.
      return "a symbolic link to a folder, which a directory walk does not follow; name the link to read that folder";
    case "missing":
      return "a symbolic link whose target does not exist";
    default:
      return "a symbolic link to something other than a regular file or folder";
  }
}

/** Checks whether the file at `path` starts as a koala-replay JSON report does. A file that cannot be opened is left to the reader, which reports it. */
async function isKoalaReplayReport(path: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, "r");
  } catch {
    return false;
  }
  try {
    const buffer = Buffer.alloc(REPORT_START_BYTES);
    const { bytesRead } = await file.read(buffer, 0, REPORT_START_BYTES, 0);
    return REPORT_START.test(buffer.toString("utf8", 0, bytesRead));
  } finally {
    await file.close();
  }
}

function compareNames(left: string, right: string): number {
  if (left === right) {
    return 0;
  }
  return left < right ? -1 : 1;
}
