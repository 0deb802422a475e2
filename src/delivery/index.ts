import { realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { linkTarget } from "./checkpoint.js";
import { FileInUseError, FileLock, type StaleLock } from "./file-lock.js";
import type { Delivery, DeliveryOptions, ResolvedDeliveryOptions } from "./options.js";
import { DeliveryRun } from "./run.js";
import { resolveDeliveryOptions } from "./settings.js";

/**
 * Creates a delivery run: per-person batching, retries, throttling, checkpoint and dead letters.
 * Raises on invalid options, on `resume` with stdin among the inputs, and with `StateMismatchError`
 * when `resume` finds an input changed since the checkpoint. Holds the locks of the checkpoint and
 * dead-letter file until `finish` or `stop` has saved the checkpoint, or the process exits.
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  const resolved = resolveDeliveryOptions(options);
  const locks = lockOutputFiles(resolved);
  let run: DeliveryRun;
  try {
    run = new DeliveryRun(resolved);
  } catch (error) {
    releaseAll(locks);
    throw error;
  }
  for (const lock of locks) {
    lock.releaseAtExit();
  }
  // After `stop` the checkpoint is saved and the dead-letter file closed, so a caller that stops a
  // run and never finishes it does not keep its files locked until the process exits.
  const finish = run.finish.bind(run);
  const stop = run.stop.bind(run);
  run.finish = async () => {
    try {
      return await finish();
    } finally {
      releaseAll(locks);
    }
  };
  run.stop = async () => {
    try {
      await stop();
    } finally {
      releaseAll(locks);
    }
  };
  return run;
}

/**
 * Locks the checkpoint and the dead-letter file before the checkpoint is read, so that a second run
 * of them stops before it reads or sends anything (FileInUseError). A dry run writes neither and
 * takes no lock. A lock that cannot be created (a read-only folder) is reported, and the run goes on
 * without it, as it does when the checkpoint cannot be saved.
 */
function lockOutputFiles(options: ResolvedDeliveryOptions): FileLock[] {
  const files: Array<[string | undefined, string]> = [
    [options.statePath, "checkpoint"],
    [options.deadLetterPath, "dead-letter file"],
  ];
  const warn = (message: string): void => options.events.onLockWarning?.(message);
  const locks: FileLock[] = [];
  const takenOver: TakenOverLock[] = [];
  try {
    for (const [path, role] of files) {
      if (path === undefined) {
        continue;
      }
      try {
        const lock = FileLock.acquire(path, role, resolveLinks(path));
        locks.push(lock);
        if (lock.takenOver !== undefined) {
          takenOver.push({ path, role, stale: lock.takenOver });
        }
      } catch (error) {
        if (error instanceof FileInUseError) {
          throw error;
        }
        warn(`cannot lock the ${role} ${path} (${(error as Error).message}), so this run does not stop another run of it from writing it at the same time`);
      }
    }
  } catch (error) {
    releaseAll(locks);
    throw error;
  }
  if (takenOver.length > 0) {
    warn(describeTakeovers(takenOver));
  }
  return locks;
}

/**
 * Locks a file that the run writes beside delivery, such as the not-sent file, as the checkpoint is
 * locked: raises FileInUseError when another run holds it, and warns when it cannot be locked.
 * The lock is released at exit, or by its `release`.
 */
export function lockRunFile(path: string, role: string, warn: (message: string) => void): FileLock | undefined {
  try {
    const lock = FileLock.acquire(path, role, resolveLinks(path));
    lock.releaseAtExit();
    if (lock.takenOver !== undefined) {
      warn(describeTakeovers([{ path, role, stale: lock.takenOver }]));
    }
    return lock;
  } catch (error) {
    if (error instanceof FileInUseError) {
      throw error;
    }
    warn(`cannot lock the ${role} ${path} (${(error as Error).message}), so this run does not stop another run of it from writing it at the same time`);
    return undefined;
  }
}

/** A stale lock that this run replaced, with the file that it guards. */
interface TakenOverLock {
  path: string;
  role: string;
  stale: StaleLock;
}

/**
 * Describes the stale locks that this run replaced in one warning: a run that was killed leaves the
 * locks of both its checkpoint and its dead-letter file.
 */
function describeTakeovers(takenOver: readonly TakenOverLock[]): string {
  const describeOwner = (stale: StaleLock): string => `pid ${stale.pid}, since ${stale.since}${stale.pidReused ? `, a pid that another process uses now` : ""}`;
  const [first, ...others] = takenOver as [TakenOverLock, ...TakenOverLock[]];
  const sameOwner = others.every(({ stale }) => stale.pid === first.stale.pid && stale.since === first.stale.since);
  if (others.length === 0) {
    return `took over the lock ${first.stale.lockPath} of the ${first.role} ${first.path}, left by a run that no longer runs (${describeOwner(first.stale)})`;
  }
  if (sameOwner) {
    const files = takenOver.map(({ role, stale }) => `${stale.lockPath} (${role})`).join(" and ");
    return `took over the locks ${files}, left by a run that no longer runs (${describeOwner(first.stale)})`;
  }
  const files = takenOver.map(({ role, stale }) => `${stale.lockPath} (${role}, ${describeOwner(stale)})`).join(" and ");
  return `took over the locks ${files}, left by runs that no longer run`;
}

/**
 * Returns `path` with symbolic links resolved, in its own name and in the path of its folder, so
 * that a checkpoint given through a link and by its own name gets one lock.
 */
function resolveLinks(path: string): string {
  const target = linkTarget(path);
  try {
    return join(realpathSync(dirname(target)), basename(target));
  } catch {
    // The folder does not exist yet: the lock creates it.
    return target;
  }
}

/** Releases the locks last taken first, so that the checkpoint's lock, taken first, can remove the folder that it created. */
function releaseAll(locks: readonly FileLock[]): void {
  for (const lock of [...locks].reverse()) {
    lock.release();
  }
}

export { checkPublicKey, type KeyCheckResult } from "./http.js";
export { classifyOutcome } from "./outcome.js";
export type { AttemptOutcome, DeadLetterReason, FatalReason, OutcomeContext, RetryLimits, RetryReason, Verdict } from "./outcome.js";
export { computeBackoffDelay, parseRetryAfter } from "./backoff.js";
export { CannotResumeError, CheckpointNotFoundError, defaultStatePath, defaultDeadLetterPath, InvalidStateFileError, StateMismatchError, UnfinishedRunError, type InputNotRead, type NoIdentityRecordsLeft, type UnfinishedCheckpoint } from "./checkpoint.js";
export { DestinationMismatchError } from "./destination.js";
export { FileInUseError, type FileLock } from "./file-lock.js";
export { DEAD_LETTER_MARKER, InvalidDeadLetterLineError, readDeadLetterLine } from "./dead-letter.js";
export { countUndeliveredEarlier, type DeadLetterFileStatus, type EarlierDeadLetterFile } from "./dead-letter-files.js";
export { buildBatchBody } from "./body.js";
export { DELIVERY_DEFAULTS, KOALA_MAX_BATCH_SIZE } from "./options.js";
export { DeadLetterPathError, StatePathError } from "./output-paths.js";
export type {
  DryRunOutput,
  DeadLetterEvent,
  Delivery,
  DeliveryEvents,
  DeliveryOptions,
  DeliveryResult,
  EarlierDeadLetters,
  FatalCause,
  RequestSentEvent,
  RetryEvent,
  RunFailureReason,
} from "./options.js";
export type { EntryKind, KoalaEntry, PersonFields } from "./entry.js";
