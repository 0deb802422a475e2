import type { Worker } from "node:worker_threads";
import { chunkBuffers } from "../inputs/chunk-buffers.js";
import type { RawChunk } from "../inputs/read-input.js";
import { ChunkReader, takeSpareResults, type ChunkReaderOptions, type EncodedChunk } from "./chunk-codec.js";
import { decodeChunk, type ChunkFacts, type EncodedFacts } from "./identity-codec.js";
import type { ChunkTask, WorkerReady, WorkerSetup } from "./chunk-worker.js";
import { defaultPoolSize, startChunkWorker, takeEarlyWorker } from "./early-workers.js";
import { mappingNames, type ProcessorConfig } from "./processor-config.js";

interface PendingChunk {
  resolve: (message: WorkerMessage) => void;
  reject: (error: Error) => void;
}

/** A worker's reply: the outcomes of a chunk, or its identity facts, and the chunk's bytes. */
type WorkerMessage = { id: number; bytes: Uint8Array } & (EncodedChunk | EncodedFacts);

/**
 * Worker threads that parse and map chunks of JSONL lines in parallel. JSON.parse is the largest
 * cost of a replay, and it only scales past one core this way. Results come back per chunk, and
 * the caller awaits them in the order it submitted them, so input order is kept.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  /**
   * Workers that have started up, in the order they did. Chunks go only to them: a worker takes
   * 100 ms or more to start, and a chunk sent earlier would hold up the results of the chunks after it,
   * which the main thread processes meanwhile.
   */
  private readonly ready: Worker[] = [];
  private readonly pending = new Map<number, PendingChunk>();
  private readonly names: string[];
  private nextId = 0;
  private nextWorker = 0;
  private failure: Error | undefined;

  constructor(config: ProcessorConfig, size = defaultPoolSize()) {
    this.names = mappingNames(config);
    for (let index = 0; index < size; index += 1) {
      // A worker started early has loaded its modules, or is loading them, while this thread loaded its own.
      const worker = takeEarlyWorker() ?? startChunkWorker();
      worker.postMessage({ config } satisfies WorkerSetup);
      worker.on("message", (message: WorkerMessage | WorkerReady) => {
        if ("ready" in message) {
          this.ready.push(worker);
        } else {
          this.onResult(message);
        }
      });
      worker.on("error", (error) => this.onFailure(error));
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Whether no worker has started up yet, or every one has a chunk waiting behind the one it is
   * processing. The main thread then processes the next chunk itself, because it would otherwise
   * wait for the workers.
   */
  get busy(): boolean {
    return this.pending.size >= this.ready.length * 2;
  }

  /**
   * Queues a chunk; the promise resolves with a reader of its outcomes once a worker has processed
   * it. The chunk's bytes move to the worker and back, so `bytes` must not be used meanwhile.
   */
  async process(chunk: RawChunk, options?: ChunkReaderOptions): Promise<ChunkReader> {
    const message = (await this.post({ mode: "process", input: chunk.input, layout: layoutOf(chunk), bytes: transferable(chunk.bytes), spare: takeSpareResults() })) as EncodedChunk & {
      bytes: Uint8Array;
    };
    return new ChunkReader(message, chunk.input, asBuffer(message.bytes), this.names, options);
  }

  /**
   * Queues a chunk for the identity first pass; the promise resolves with the facts of its events,
   * and with `withMessageIds` the keys of their message_ids.
   */
  async identities(chunk: RawChunk, withMessageIds = false): Promise<ChunkFacts> {
    const message = await this.post({ mode: "identities", input: chunk.input, layout: layoutOf(chunk), bytes: transferable(chunk.bytes), withMessageIds });
    chunkBuffers.give(message.bytes);
    return decodeChunk(message as EncodedFacts);
  }

  private post(task: Omit<ChunkTask, "id">): Promise<WorkerMessage> {
    if (this.failure !== undefined) {
      return Promise.reject(this.failure);
    }
    const id = this.nextId++;
    // Before any worker is ready, the chunk waits for the first one to start.
    const candidates = this.ready.length > 0 ? this.ready : this.workers;
    const worker = candidates[this.nextWorker % candidates.length] as Worker;
    this.nextWorker = (this.nextWorker + 1) % candidates.length;
    const transfer = [task.bytes.buffer as ArrayBuffer];
    if (task.spare !== undefined) {
      transfer.push(task.spare.ints, task.spare.text);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...task } satisfies ChunkTask, transfer);
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

/**
 * Returns bytes that own their whole ArrayBuffer, copying when `bytes` is a view of a larger one
 * (the rest of a read, or Buffer's shared pool), because transferring a buffer detaches all of it.
 * A chunk from `chunkBuffers` owns its memory even when it fills only part of it.
 */
function transferable(bytes: Buffer): Buffer {
  if (chunkBuffers.holdsAlone(bytes) || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > Buffer.poolSize)) {
    return bytes;
  }
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(copy);
  return copy;
}

function layoutOf(chunk: RawChunk): ChunkTask["layout"] {
  return chunk.kind === "lines" ? { kind: "lines", firstLine: chunk.firstLine } : { kind: "elements", elements: chunk.elements };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
