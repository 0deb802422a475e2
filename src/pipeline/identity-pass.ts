import { stat } from "node:fs/promises";
import { defaultMessageIdOf, type RepeatFilter } from "../delivery/repeat-filter.js";
import { createIdKey, hashId } from "../identity/hash-id.js";
import { IdentityGraph, IdentityGraphWriteError, loadIdentities, type IdentityGraphOptions, type LoadIdentitiesResult } from "../identity/index.js";
import { chunkBuffers } from "../inputs/chunk-buffers.js";
import { readInput, type RawChunk, type ReadInputOptions } from "../inputs/read-input.js";
import { isNestedTooDeeply } from "./event-depth.js";
import { decodeChunk, extractChunkFacts, extractElementFacts, type ChunkFacts } from "./identity-codec.js";
import type { WorkerPool } from "./worker-pool.js";
import type { InputSource } from "../inputs/expand-inputs.js";
import type { SegmentEvent } from "../inputs/record.js";

export interface IdentityPassOptions {
  /** CSV or JSONL file of userId/anonymousId → email given with `--identities`. */
  identitiesFile?: string;
  readOptions: ReadInputOptions;
  warn: (message: string) => void;
  signal?: AbortSignal;
  /** Returns the worker pool for inputs large enough to be worth it; see runReplay. */
  workersFor?: (chunkBytes: number) => WorkerPool | undefined;
  /** Receives the share of the inputs' bytes read so far (0 to 1), after each chunk, for the progress line. */
  onShareRead?: (share: number) => void;
  /** The memory budget and temporary directory of the graph (default: those of `IdentityGraph`). */
  graph?: IdentityGraphOptions;
  /**
   * Receives the message_id of every event read, to find those that occur more than once. The pass
   * turns it off when the second pass may read an event that this one did not.
   */
  repeats?: RepeatFilter;
}

/**
 * Builds the identity graph before any event is sent: from the identities file, then from a first
 * pass over every input except those that can be read only once (stdin, a pipe), whose events the
 * second pass needs. Unreadable lines are skipped here silently, because the second pass reports
 * and counts each of them once.
 */
export async function buildIdentityGraph(sources: readonly InputSource[], options: IdentityPassOptions): Promise<IdentityGraph> {
  const graph = new IdentityGraph(options.graph);
  if (options.identitiesFile !== undefined) {
    let loaded: LoadIdentitiesResult;
    try {
      loaded = await loadIdentities(options.identitiesFile, graph, { onProblem: (problem) => options.warn(problem.message), signal: options.signal });
    } catch (error) {
      // After Ctrl-C the run reads no input and reports that it was interrupted.
      if (options.signal?.aborted === true) {
        return graph;
      }
      throw error;
    }
    if (loaded.badRows > 0) {
      options.warn(`${options.identitiesFile}: ${loaded.badRows} bad rows skipped; ${loaded.identities} identities read`);
    }
  }
  const files = sources.filter((source) => source.readOnce === undefined);
  if (files.length < sources.length) {
    options.repeats?.giveUp();
  }
  const share = options.onShareRead === undefined ? undefined : await shareCounter(files, options.onShareRead);
  for (const source of files) {
    if (options.signal?.aborted === true) {
      continue;
    }
    try {
      const readOptions: ReadInputOptions =
        share === undefined
          ? options.readOptions
          : {
              ...options.readOptions,
              onOpen: (counter) => {
                options.readOptions.onOpen?.(counter);
                share.onOpen(counter);
              },
            };
      await observeInput(source.path, graph, { ...options, readOptions }, share?.report);
    } catch (error) {
      // A graph that lost ids would give events a wrong email or none, so a failed write stops the run.
      if (error instanceof IdentityGraphWriteError) {
        throw error;
      }
      // The second pass may read events that this one did not.
      options.repeats?.giveUp();
      // The second pass reads the same input and reports why it cannot be read.
    }
    share?.finishInput();
  }
  options.repeats?.finishFirstPass();
  return graph;
}

/** Adds up the bytes read across the inputs, as a share of their size on disk (compressed bytes for gzip). */
async function shareCounter(
  files: readonly InputSource[],
  onShareRead: (share: number) => void,
): Promise<{ onOpen: (counter: { bytesRead: () => number }) => void; finishInput: () => void; report: () => void }> {
  let totalBytes = 0;
  for (const file of files) {
    totalBytes += await stat(file.path).then(
      (found) => found.size,
      () => 0,
    );
  }
  let finishedBytes = 0;
  let current: { bytesRead: () => number } | undefined;
  return {
    onOpen: (counter) => {
      current = counter;
    },
    finishInput: () => {
      finishedBytes += current?.bytesRead() ?? 0;
      current = undefined;
    },
    report: () => {
      if (totalBytes > 0) {
        onShareRead(Math.min(1, (finishedBytes + (current?.bytesRead() ?? 0)) / totalBytes));
      }
    },
  };
}

/** Reads one input's identity facts into the graph; `onChunk` is called after each chunk read. */
async function observeInput(path: string, graph: IdentityGraph, options: IdentityPassOptions, onChunk?: () => void): Promise<void> {
  // Chunks read by workers, in input order: the graph resolves conflicts by time, with ties to the
  // later observation, so the order must be the same as on the main thread.
  const inFlight: Array<Promise<ChunkFacts>> = [];
  const drain = async (keep: number): Promise<void> => {
    while (inFlight.length > keep) {
      const chunk = await (inFlight.shift() as Promise<ChunkFacts>);
      for (const facts of chunk.facts) {
        graph.observeFacts(facts);
      }
      observeMessageIdKeys(chunk, options.repeats);
    }
  };

  try {
    await observeBatches(path, graph, options, inFlight, drain, onChunk);
  } catch (error) {
    // The chunks already read still count; the second pass reports why reading stopped.
    await drain(0).catch((drainError: unknown) => {
      if (drainError instanceof IdentityGraphWriteError) {
        throw drainError;
      }
    });
    throw error;
  }
  await drain(0);
}

async function observeBatches(
  path: string,
  graph: IdentityGraph,
  options: IdentityPassOptions,
  inFlight: Array<Promise<ChunkFacts>>,
  drain: (keep: number) => Promise<void>,
  onChunk: (() => void) | undefined,
): Promise<void> {
  for await (const batch of readInput(path, options.readOptions)) {
    // After Ctrl-C the second pass reads nothing more, so the identities in the rest of the file would go unused.
    if (options.signal?.aborted === true) {
      return;
    }
    onChunk?.();
    if (batch.kind === "items") {
      await drain(0);
      for (const item of batch.items) {
        if (item.kind === "record" && !isNestedTooDeeply(item.event)) {
          graph.observe(item.event);
          observeMessageId(item.event, options.repeats);
        }
      }
      continue;
    }
    const withMessageIds = options.repeats !== undefined && !options.repeats.isOff;
    const pool = options.workersFor?.(batch.bytes.length);
    if (pool === undefined) {
      await drain(0);
      const chunk = factsHere(batch, withMessageIds);
      for (const facts of chunk.facts) {
        graph.observeFacts(facts);
      }
      observeMessageIdKeys(chunk, options.repeats);
    } else {
      // As in the second pass, this thread takes the chunk when every worker has a backlog.
      inFlight.push(pool.busy ? Promise.resolve(factsHere(batch, withMessageIds)) : pool.identities(batch, withMessageIds));
      await drain(pool.size * 2 + 1);
    }
  }
}

/** Reads a chunk's identity facts on this thread, and gives its bytes back for reuse. */
function factsHere(chunk: RawChunk, withMessageIds: boolean): ChunkFacts {
  const encoded =
    chunk.kind === "lines" ? extractChunkFacts(chunk.bytes, chunk.firstLine, withMessageIds) : extractElementFacts(chunk.bytes, chunk.elements, withMessageIds);
  const facts = decodeChunk(encoded);
  chunkBuffers.give(chunk.bytes);
  return facts;
}

function observeMessageIdKeys(chunk: ChunkFacts, repeats: RepeatFilter | undefined): void {
  if (repeats === undefined || repeats.isOff) {
    return;
  }
  // Dead-letter lines keep the message_id of their entry, which this pass does not read.
  if (chunk.messageIdKeys === undefined || chunk.eventsWithoutKey > 0) {
    repeats.giveUp();
    return;
  }
  for (let offset = 0; offset < chunk.messageIdKeys.length; offset += 2) {
    repeats.observeKey(chunk.messageIdKeys, offset);
  }
}

const messageIdKey = createIdKey();

/** Adds the message_id of an event read on this thread, as the workers add those of a chunk. */
function observeMessageId(event: SegmentEvent, repeats: RepeatFilter | undefined): void {
  if (repeats === undefined || repeats.isOff) {
    return;
  }
  const messageId = defaultMessageIdOf(event);
  if (messageId === undefined) {
    repeats.giveUp();
    return;
  }
  hashId(messageId, messageIdKey);
  repeats.observeKey(messageIdKey, 0);
}
