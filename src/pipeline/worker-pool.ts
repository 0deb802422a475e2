import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { decodeOutcomes, type EncodedChunk } from "./chunk-codec.js";
import type { ChunkTask } from "./chunk-worker.js";
import type { LineOutcome } from "./process-lines.js";
import { mappingNames, type ProcessorConfig } from "./processor-config.js";

interface PendingChunk {
  resolve: (outcomes: LineOutcome[]) => void;
  reject: (error: Error) => void;
  input: string;
  bytes: Buffer;
}

/**
 * Worker threads that parse and map chunks of JSONL lines in parallel. JSON.parse is the largest
 * cost of a replay, and it only scales past one core this way. Results come back per chunk, and
 * the caller awaits them in the order it submitted them, so input order is kept.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, PendingChunk>();
  private readonly names: string[];
  private nextId = 0;
  private nextWorker = 0;
  private failure: Error | undefined;

  constructor(config: ProcessorConfig, size = defaultPoolSize()) {
    this.names = mappingNames(config);
    for (let index = 0; index < size; index += 1) {
      const worker = new Worker(new URL("./chunk-worker.js", import.meta.url), { workerData: config });
      worker.on("message", (message: { id: number } & EncodedChunk) => this.onResult(message));
      worker.on("error", (error) => this.onFailure(error));
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Queues a chunk; the promise resolves with its outcomes once a worker has processed it. */
  process(input: string, firstLine: number, bytes: Buffer): Promise<LineOutcome[]> {
    if (this.failure !== undefined) {
      return Promise.reject(this.failure);
    }
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker] as Worker;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, input, bytes });
      const task: ChunkTask = { id, input, firstLine, bytes };
      worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private onResult(message: { id: number } & EncodedChunk): void {
    const chunk = this.pending.get(message.id);
    if (chunk === undefined) {
      return;
    }
    this.pending.delete(message.id);
    chunk.resolve(decodeOutcomes(message, chunk.input, chunk.bytes, this.names));
  }

  private onFailure(error: Error): void {
    this.failure = error;
    for (const chunk of this.pending.values()) {
      chunk.reject(error);
    }
    this.pending.clear();
  }
}

/** One worker per core, at most 8: the main thread's share (reading, batching, writing) is small. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}
