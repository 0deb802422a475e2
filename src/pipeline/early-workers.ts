import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * Inputs this large, or a chunk this large, are worth the worker threads' start-up (100 ms or more
 * each). Smaller inputs are processed on the main thread.
 */
export const WORKER_POOL_THRESHOLD_BYTES = 1 << 20;

/**
 * Young generation of each worker's heap, in MB. A worker keeps almost nothing between chunks, so a
 * small one costs little CPU time. Left to itself, V8 let a worker's new space grow from 8 to 34 MB
 * in the identity first pass, and a stitching dry run of 1 million events peaked about 25 MB higher.
 */
const WORKER_YOUNG_GENERATION_MB = 12;

/** Workers started by `startWorkersEarly` that no pool has taken yet. */
const earlyWorkers: Worker[] = [];

/**
 * One worker per core but one, at most 8, because the main thread processes chunks too whenever the
 * workers have a backlog. Each worker is a V8 heap of its own, so fewer workers also use less memory.
 */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

/**
 * Starts a chunk worker. It loads its modules and then waits for the processor config, which the
 * pool that takes it posts as the first message.
 */
export function startChunkWorker(): Worker {
  return new Worker(new URL("./chunk-worker.js", import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
}

/**
 * Starts the workers of a pool before the main thread loads the modules of a replay, when the inputs
 * that are plain files add up to `WORKER_POOL_THRESHOLD_BYTES` or more. A worker takes 100 ms or more
 * to load its own modules, which then overlaps the main thread's loading instead of following it.
 * The workers do not keep the process alive until a pool takes them (`takeEarlyWorker`).
 */
export function startWorkersEarly(inputs: readonly string[]): void {
  if (earlyWorkers.length > 0 || sizeOfFiles(inputs) < WORKER_POOL_THRESHOLD_BYTES) {
    return;
  }
  for (let count = defaultPoolSize(); count > 0; count -= 1) {
    const worker = startChunkWorker();
    worker.unref();
    // A worker that fails before a pool takes it is dropped, and the pool starts another one.
    worker.once("error", () => {
      const index = earlyWorkers.indexOf(worker);
      if (index !== -1) {
        earlyWorkers.splice(index, 1);
      }
    });
    earlyWorkers.push(worker);
  }
}

/** Returns a worker started early, if one is left, which then keeps the process alive as any other. */
export function takeEarlyWorker(): Worker | undefined {
  const worker = earlyWorkers.shift();
  worker?.ref();
  return worker;
}

/** Returns the total size of the inputs that are files, skipping directories, pipes and paths that cannot be read. */
function sizeOfFiles(inputs: readonly string[]): number {
  let total = 0;
  for (const input of inputs) {
    try {
      const stats = statSync(input, { throwIfNoEntry: false });
      if (stats?.isFile() === true) {
        total += stats.size;
      }
    } catch {
      // The run reports an input it cannot read when it opens it.
    }
  }
  return total;
}
