import { randomBytes } from "node:crypto";
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { checkProcess, currentProcessStart, type ProcessStart } from "./process-start.js";

/** Contents of a lock file: which process holds it, and since when. */
interface LockOwner extends Partial<ProcessStart> {
  pid: number;
  host: string;
  /** When the run took the lock, as ISO-8601. */
  since: string;
}

/** Reason that a lock file stops this run. */
type InUseReason = "running" | "other-host" | "unreadable";

/** A lock left by a process that no longer runs, which `FileLock.acquire` replaced. */
export interface StaleLock {
  lockPath: string;
  pid: number;
  since: string;
  /** Whether the pid runs again, as another process than the one that took the lock. */
  pidReused: boolean;
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
    readonly reason: InUseReason,
  ) {
    const holder = owner === undefined ? "its lock file cannot be read" : `pid ${owner.pid}${reason === "other-host" ? ` on ${owner.host}` : ""}, since ${owner.since}`;
    super(`another run is using this ${role}, ${path} (${holder})`);
    this.name = "FileInUseError";
    const ownFile = `Wait for that run to end, or give this run a ${role} of its own (${optionOfRole(role)} <path>).`;
    const deleteLock = `delete ${lockPath} and run the command again. Deleting it while that run still runs ${effectOfSharing(role)}.`;
    if (owner === undefined) {
      this.hint = `${ownFile} The lock file is empty or not JSON, so the run that wrote it cannot be checked. Once no other run of this ${role} is running, ${deleteLock}`;
    } else if (reason === "other-host") {
      this.hint =
        `${ownFile} The lock was taken on ${owner.host}, whose processes this host cannot check, so it is never taken over. ` +
        `Once pid ${owner.pid} has ended on ${owner.host} (\`ps -p ${owner.pid}\` there lists no process), ${deleteLock}`;
    } else {
      this.hint = `${ownFile} If pid ${owner.pid} is not a koala-replay run, ${deleteLock}`;
    }
  }
}

/** Returns the `send` option that names the file of `role`. */
function optionOfRole(role: string): string {
  switch (role) {
    case "checkpoint":
      return "--state";
    case "not-sent file":
      return "--not-sent";
    default:
      return "--dead-letter";
  }
}

/** Describes what two runs that write the file of `role` at once do to each other. */
function effectOfSharing(role: string): string {
  return role === "not-sent file" ? "mixes the lines of both runs in one file" : "lets both runs send the same entries and overwrite each other's saves";
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
    /** The lock of a process that no longer runs, which this one replaced. */
    readonly takenOver: StaleLock | undefined,
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
   * Takes the lock of `path`: the file `<path>.lock`, created exclusively with the pid, host and
   * start time of this process. A lock left by a process of this host that no longer runs is
   * replaced, and `takenOver` describes it. Raises FileInUseError when the lock belongs to a live
   * process of this host, to any process of another host, whose process this host cannot check, or
   * cannot be read. `target` is the path with symbolic links resolved, beside which the lock is
   * created, so that two names of one file share one lock. Messages name the file as `path`.
   */
  static acquire(path: string, role: string, target = path): FileLock {
    const lockPath = `${target}.lock`;
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), ...currentProcessStart() };
    const content = `${JSON.stringify(owner)}\n`;
    const createdFolder = mkdirSync(dirname(lockPath), { recursive: true });
    const result = takeFile(lockPath, content, 0);
    if (!result.taken) {
      throw new FileInUseError(path, lockPath, role, result.holder, result.reason);
    }
    return new FileLock(lockPath, content, createdFolder, result.replaced);
  }

  /** Removes the lock file, unless another run has taken it over since. Safe to call more than once. */
  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    process.off("exit", this.releaseOnExit);
    try {
      removeIfOwn(this.lockPath, this.content);
      if (this.createdFolder !== undefined) {
        rmdirSync(this.createdFolder);
      }
    } catch {
      // A lock file that cannot be removed is taken over as stale by the next run of this host. A
      // folder that is not empty, because the run saved its checkpoint there, stays.
    }
  }
}

type TakeResult = { taken: true; replaced: StaleLock | undefined } | { taken: false; holder: LockOwner | undefined; reason: InUseReason };

/** Levels of `.takeover` files on top of a lock: each one more is needed only after a crash in the microseconds that the one below is held. */
const MAX_TAKEOVER_DEPTH = 3;

/** How long a run waits for another run's `.takeover` file, which exists for microseconds unless the machine is overloaded. */
const TAKEOVER_WAIT_MS = 10_000;

/**
 * Creates `path` with `content`, or replaces it when the process that wrote it no longer runs.
 *
 * Several runs may find the same stale file at once, and no file system call replaces a file only
 * while its content is still the stale one. So a run first takes `<path>.takeover` (this same
 * function, one level up), rereads `path` while that file exists, and replaces it only if unchanged. Of the
 * runs that found the stale file, the first to take `.takeover` replaces it, and the others find
 * its lock when they reread. A new run that comes meanwhile finds `path` present, because the
 * replacement is a rename over it, and so never creates it beside the winner.
 */
function takeFile(path: string, content: string, depth: number): TakeResult {
  for (;;) {
    if (createExclusively(path, content)) {
      return { taken: true, replaced: undefined };
    }
    const existing = readLock(path);
    if (existing === undefined) {
      // Released between the attempt and the read: try again.
      continue;
    }
    const holder = parseOwner(existing);
    const state = holderState(holder);
    if (state === "running" || state === "other-host" || state === "unreadable") {
      return { taken: false, holder, reason: state };
    }
    const takeoverPath = `${path}.takeover`;
    const takeover = depth < MAX_TAKEOVER_DEPTH ? waitToTake(takeoverPath, content, depth + 1) : false;
    if (!takeover) {
      // NOTE: left only by runs that crashed while they replaced a stale lock, so reported as in use:
      // the hint's `delete` then clears the lock, and the `.takeover` file no longer matters.
      return { taken: false, holder, reason: "running" };
    }
    try {
      if (readLock(path) !== existing) {
        continue;
      }
      replaceAtomically(path, content);
    } finally {
      removeIfOwn(takeoverPath, content);
    }
    const owner = holder as LockOwner;
    return { taken: true, replaced: { lockPath: path, pid: owner.pid, since: owner.since, pidReused: state === "pid-reused" } };
  }
}

/** Takes a `.takeover` file, waiting while a live run owns it. Returns false when it cannot be taken. */
function waitToTake(path: string, content: string, depth: number): boolean {
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    const result = takeFile(path, content, depth);
    if (result.taken) {
      return true;
    }
    if (result.reason !== "running" || Date.now() > deadline) {
      return false;
    }
    sleep(5);
  }
}

function holderState(holder: LockOwner | undefined): InUseReason | "exited" | "pid-reused" {
  if (holder === undefined) {
    return "unreadable";
  }
  if (holder.host !== hostname()) {
    return "other-host";
  }
  return checkProcess(holder.pid, holder);
}

/**
 * Creates `path` with all of `content` at once: written to a file of its own, then hard-linked to
 * `path`, which fails if `path` exists. A run that reads the lock thus never finds it empty. File
 * systems without hard links get an exclusive create (O_EXCL) followed by the write.
 */
function createExclusively(path: string, content: string): boolean {
  const temporary = writeTemporary(path, content);
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      return false;
    }
    if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS") {
      return createWithExclusiveOpen(path, content);
    }
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function createWithExclusiveOpen(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return false;
    }
    throw error;
  }
  try {
    writeSync(fd, content);
  } catch (error) {
    // An empty lock would stop every later run, so a lock that cannot be written is removed.
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
  closeSync(fd);
  return true;
}

/** Replaces `path` by renaming a complete file over it, so that `path` exists at every moment. */
function replaceAtomically(path: string, content: string): void {
  const temporary = writeTemporary(path, content);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
}

/** Writes `content` to a new file beside `path`, named after this process and a random suffix. */
function writeTemporary(path: string, content: string): string {
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(temporary, content, { flag: "wx", mode: 0o600 });
  } catch (error) {
    // A full disk (ENOSPC) or a file-size limit (EFBIG) can fail the write after the file was created.
    rmSync(temporary, { force: true });
    throw error;
  }
  return temporary;
}

function removeIfOwn(path: string, content: string): void {
  if (readLock(path) === content) {
    unlinkSync(path);
  }
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

/**
 * Parses a lock file. The start-time fields are kept only with the types that this version writes,
 * because a start time that cannot match would make a live holder look stale.
 */
function parseOwner(text: string): LockOwner | undefined {
  let value: Partial<Record<keyof LockOwner, unknown>>;
  try {
    value = JSON.parse(text) as Partial<Record<keyof LockOwner, unknown>>;
  } catch {
    // Not JSON: a lock file cut short, or not written by koala-replay.
    return undefined;
  }
  if (typeof value !== "object" || value === null || !Number.isInteger(value.pid) || typeof value.host !== "string" || typeof value.since !== "string") {
    return undefined;
  }
  const owner: LockOwner = { pid: value.pid as number, host: value.host, since: value.since };
  if (typeof value.started === "string") {
    owner.started = value.started;
  }
  if (typeof value.bootId === "string" && Number.isSafeInteger(value.startTicks)) {
    owner.bootId = value.bootId;
    owner.startTicks = value.startTicks as number;
  }
  return owner;
}

/** Blocks the thread for `ms`, between two looks at a `.takeover` file: `acquire` is synchronous. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
