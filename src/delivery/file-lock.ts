import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** Contents of a lock file: which process holds it, and since when. */
interface LockOwner {
  pid: number;
  host: string;
  /** When the run took the lock, as ISO-8601. */
  since: string;
}

/**
 * Raised, before anything is read or sent, when another run holds the lock of the checkpoint or
 * dead-letter file that this run would write: two runs of one checkpoint would send the same
 * entries and replace each other's saves.
 */
export class FileInUseError extends Error {
  readonly code = "FILE_IN_USE";
  readonly hint: string;

  constructor(
    /** The file that the lock guards. */
    readonly path: string,
    readonly lockPath: string,
    /** Role of the file in the run, as a noun phrase: "checkpoint", "dead-letter file". */
    readonly role: string,
    owner: LockOwner | undefined,
  ) {
    const holder = owner === undefined ? "its lock file cannot be read" : `pid ${owner.pid}${owner.host === hostname() ? "" : ` on ${owner.host}`}, since ${owner.since}`;
    super(`another run is using this ${role}, ${path} (${holder})`);
    this.name = "FileInUseError";
    this.hint =
      `Wait for that run to end, or give this run a ${role} of its own (${role === "checkpoint" ? "--state" : "--dead-letter"} <path>). ` +
      `If no run is using it (the process is gone, or ran on another machine that shares this folder), delete ${lockPath} and run the command again.`;
  }
}

/** A lock on a file that a run writes, held until `release` or the process exits. */
export class FileLock {
  private released = false;
  private readonly releaseOnExit = (): void => this.release();

  private constructor(
    readonly lockPath: string,
    private readonly content: string,
    /** The folder that `acquire` created for the lock, removed with it when empty. */
    private readonly createdFolder: string | undefined,
  ) {}

  /**
   * Releases the lock when the process exits, as after a second Ctrl-C or a crash. Called after the
   * run registered its own exit listener, the last save of the checkpoint, so that this one runs
   * after it: listeners run in the order they were added.
   */
  releaseAtExit(): void {
    process.once("exit", this.releaseOnExit);
  }

  /**
   * Takes the lock of `path`: the file `<path>.lock`, created exclusively (O_EXCL) with the pid, host
   * and start time of this process. A lock left by a process of this host that no longer runs is
   * taken over, and `onStaleLock` is called. Raises FileInUseError when the lock belongs to a live
   * process of this host, or to any process of another host, whose process this host cannot check.
   * `target` is the path with symbolic links resolved, beside which the lock is created, so that two
   * names of one file share one lock. Messages name the file as `path`.
   */
  static acquire(path: string, role: string, onStaleLock: (lockPath: string, owner: string) => void, target = path): FileLock {
    const lockPath = `${target}.lock`;
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const content = `${JSON.stringify(owner)}\n`;
    const createdFolder = mkdirSync(dirname(lockPath), { recursive: true });
    // Twice: a stale lock removed on the first pass may have been taken by another run in between.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (createExclusively(lockPath, content)) {
        return new FileLock(lockPath, content, createdFolder);
      }
      const existing = readLock(lockPath);
      if (existing === undefined) {
        // Removed between our attempt and the read: try again.
        continue;
      }
      const holder = parseOwner(existing);
      if (holder === undefined || holder.host !== owner.host || isRunning(holder.pid)) {
        throw new FileInUseError(path, lockPath, role, holder);
      }
      // NOTE: two runs that find the same stale lock at once may both get here. The second one's
      // unlink below is skipped only when the lock changed before it reread the file.
      if (readLock(lockPath) === existing) {
        unlinkSync(lockPath);
        onStaleLock(lockPath, `pid ${holder.pid}, since ${holder.since}`);
      }
    }
    throw new FileInUseError(path, lockPath, role, parseOwner(readLock(lockPath) ?? ""));
  }

  /** Removes the lock file, unless another run has taken it over since. Safe to call more than once. */
  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    process.off("exit", this.releaseOnExit);
    try {
      if (readLock(this.lockPath) === this.content) {
        unlinkSync(this.lockPath);
      }
      if (this.createdFolder !== undefined) {
        rmdirSync(this.createdFolder);
      }
    } catch {
      // A lock file that cannot be removed is taken over as stale by the next run of this host. A
      // folder that is not empty, because the run saved its checkpoint there, stays.
    }
  }
}

function createExclusively(lockPath: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return false;
    }
    throw error;
  }
  try {
    writeSync(fd, content);
  } catch (error) {
    // An empty lock file left by a full disk would stop every later run as a lock held by another.
    closeSync(fd);
    unlinkSync(lockPath);
    throw error;
  }
  closeSync(fd);
  return true;
}

function readLock(lockPath: string): string | undefined {
  try {
    return readFileSync(lockPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw error;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(value.pid) && typeof value.host === "string" && typeof value.since === "string") {
      return value as LockOwner;
    }
  } catch {
    // Not JSON: a lock file cut short, or not written by koala-replay.
  }
  return undefined;
}

/** Checks whether a process with this pid runs on this host. EPERM means that it runs under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
