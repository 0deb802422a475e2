import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { IdentityFacts } from "../identity/identity-facts.js";
import { decodeOutcomes, type EncodedChunk } from "./chunk-codec.js";
import { decodeChunkFacts, type EncodedFacts } from "./identity-codec.js";
import type { ChunkTask } from "./chunk-worker.js";
import type { LineOutcome } from "./process-lines.js";
import { mappingNames, type ProcessorConfig } from "./processor-config.js";

interface PendingChunk {
  resolve: (message: WorkerMessage) => void;
  reject: (error: Error) => void;
}

type WorkerMessage = { id: number } & (EncodedChunk | EncodedFacts);

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
      worker.on("message", (message: WorkerMessage) => this.onResult(message));
      worker.on("error", (error) => this.onFailure(error));
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Queues a chunk; the promise resolves with its outcomes once a worker has processed it. */
  async process(input: string, firstLine: number, bytes: Buffer): Promise<LineOutcome[]> {
    const message = await this.post({ mode: "process", input, firstLine, bytes });
    return decodeOutcomes(message as EncodedChunk, input, bytes, this.names);
  }

  /** Queues a chunk for the identity first pass; the promise resolves with the facts of its events. */
  async identities(input: string, firstLine: number, bytes: Buffer): Promise<IdentityFacts[]> {
    const message = await this.post({ mode: "identities", input, firstLine, bytes });
    return decodeChunkFacts(message as EncodedFacts);
  }

  private post(task: Omit<ChunkTask, "id">): Promise<WorkerMessage> {
    if (this.failure !== undefined) {
      return Promise.reject(this.failure);
    }
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker] as Worker;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...task } satisfies ChunkTask);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private onResult(message: WorkerMessage): void {
    const chunk = this.pending.get(message.id);
    if (chunk === undefined) {
      return;
    }
    this.pending.delete(message.id);
    chunk.resolve(message);
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
