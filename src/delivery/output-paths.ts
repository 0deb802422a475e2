import { realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { isReadByDirectoryWalk } from "../inputs/expand-inputs.js";

/** Raised, before anything is read or sent, for a dead-letter file that the run or a later run would read as an input. */
export class DeadLetterPathError extends Error {
  /** The next step: move the dead letters, or the checkpoint that they are named after. */
  readonly hint: string;

  constructor(
    readonly input: string,
    folder: string | undefined,
    pathGiven: boolean,
    /** Kind of the special file at the path, when the path is not a regular file. */
    special?: string,
  ) {
    super(
      special !== undefined
        ? `the dead-letter path ${input} is ${special}, not a regular file, and the dead letters are the only copy of the entries Koala did not take`
        : folder === undefined
          ? `the dead-letter file ${input} is also an input, so the dead letters of this run would be appended to the file being sent`
          : `the dead-letter file ${input} is in the input folder ${folder}, so the next run of these inputs would read the dead letters as events`,
    );
    this.name = "DeadLetterPathError";
    this.hint = pathGiven
      ? "write the dead letters of this run to another file with --dead-letter <path>"
      : "the dead-letter file is named after the checkpoint: give --state <path> a file outside the inputs, or the dead letters another file with --dead-letter <path>";
  }
}

/** Raised, before anything is read or sent, for a checkpoint path that would replace an input or the dead letters. */
export class StatePathError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "StatePathError";
  }
}

export interface OutputPaths {
  statePath: string | undefined;
  deadLetterPath: string | undefined;
  /** Whether the dead-letter path was given, rather than named after the checkpoint. */
  deadLetterPathGiven: boolean;
  /** Files the run reads, after folders were walked. */
  inputs: readonly string[];
  /** Inputs as the user gave them, folders included. */
  givenInputs: readonly string[];
  cwd: string;
}

const STATE_HINT = "give --state <path> a file outside the inputs, or leave --state out to keep the checkpoint in .koala-replay";

/**
 * Rejects a checkpoint or dead-letter path that the run would damage or read back. Each save
 * replaces the checkpoint as a whole, so it must be neither an input nor the dead-letter file.
 * Neither file may be one that a walk of an input folder reads, or the next run reads it as events.
 * Paths are compared with symbolic links resolved, and the dead-letter file by inode too, so that a
 * hard link to an input is rejected.
 */
export function rejectOutputPathsAmongInputs(paths: OutputPaths): void {
  const inputs = paths.inputs.filter((name) => name !== "-").map((name) => ({ name, path: canonicalPath(paths.cwd, name) }));
  const folders = paths.givenInputs.filter((name) => name !== "-" && isDirectory(resolve(paths.cwd, name)));

  if (paths.statePath !== undefined) {
    const statePath = canonicalPath(paths.cwd, paths.statePath);
    if (isDirectory(statePath)) {
      throw new StatePathError(`the checkpoint path ${paths.statePath} is a directory`, `name a file in it instead, such as --state ${join(paths.statePath, "state.json")}`);
    }
    // Each save renames a new file over the path, which would replace a device such as /dev/null for a user allowed to.
    const special = describeSpecialFile(statePath);
    if (special !== undefined) {
      throw new StatePathError(
        `the checkpoint path ${paths.statePath} is ${special}, not a regular file, and each save of the checkpoint would replace it`,
        "give --state <path> a regular file; a run always keeps a checkpoint, so that it can be resumed",
      );
    }
    if (paths.deadLetterPath !== undefined && canonicalPath(paths.cwd, paths.deadLetterPath) === statePath) {
      throw new StatePathError(
        `--state and --dead-letter name the same file, ${paths.statePath}, so each save of the checkpoint would replace the dead letters`,
        "give the two options different paths, or leave out --dead-letter to keep the dead letters next to the checkpoint",
      );
    }
    const input = inputs.find((candidate) => candidate.path === statePath);
    if (input !== undefined) {
      throw new StatePathError(`the checkpoint file ${input.name} is also an input, so saving the checkpoint would replace the events being sent`, STATE_HINT);
    }
    const folder = findReadingFolder(statePath, folders, paths.cwd);
    if (folder !== undefined) {
      throw new StatePathError(`the checkpoint file ${paths.statePath} is in the input folder ${folder}, so the next run of these inputs would read it as events`, STATE_HINT);
    }
  }

  if (paths.deadLetterPath !== undefined) {
    const deadLetterPath = canonicalPath(paths.cwd, paths.deadLetterPath);
    // Opening a named pipe for the first dead letter would wait for a reader, with the whole run stopped.
    const special = describeSpecialFile(deadLetterPath);
    if (special !== undefined) {
      throw new DeadLetterPathError(paths.deadLetterPath, undefined, paths.deadLetterPathGiven, special);
    }
    // Dead letters are appended, so a hard link to an input, which has another path, would grow the input too.
    const input = inputs.find((candidate) => candidate.path === deadLetterPath || isSameFile(candidate.path, deadLetterPath));
    if (input !== undefined) {
      throw new DeadLetterPathError(input.name, undefined, paths.deadLetterPathGiven);
    }
    const folder = findReadingFolder(deadLetterPath, folders, paths.cwd);
    if (folder !== undefined) {
      throw new DeadLetterPathError(paths.deadLetterPath, folder, paths.deadLetterPathGiven);
    }
  }
}

/** Returns the first input folder whose walk reads the file at the canonical `path`, whether it exists yet or not. */
function findReadingFolder(path: string, folders: readonly string[], cwd: string): string | undefined {
  return folders.find((folder) => {
    const inside = relative(canonicalPath(cwd, folder), path);
    const outside = inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside);
    return inside !== "" && !outside && isReadByDirectoryWalk(inside);
  });
}

/**
 * Returns the absolute path with links resolved. A file that does not exist yet gets its folder's
 * resolved path, so that it compares equal to the same file named through a link to the folder.
 */
export function canonicalPath(cwd: string, name: string): string {
  const path = resolve(cwd, name);
  try {
    return realpathSync.native(path);
  } catch {
    try {
      return join(realpathSync.native(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

/** Names the kind of an existing file that is neither a regular file nor a directory, or returns undefined. */
function describeSpecialFile(path: string): string | undefined {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return undefined;
  }
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isSocket()) return "a socket";
  return undefined;
}

/** Checks whether two paths name one existing file, by its device and inode. */
export function isSameFile(first: string, second: string): boolean {
  const firstStats = statIfPresent(first);
  const secondStats = statIfPresent(second);
  if (firstStats === undefined || secondStats === undefined) {
    return false;
  }
  return firstStats.dev === secondStats.dev && firstStats.ino === secondStats.ino;
}

/** Returns the stats of `path`, or undefined when it cannot be read, as when a folder on the way is a file. */
function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
