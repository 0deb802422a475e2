import { parentPort } from "node:worker_threads";
import type { RawChunk } from "../inputs/read-input.js";
import { processChunk, type ResultBuffers } from "./chunk-codec.js";
import { extractChunkFacts, extractElementFacts } from "./identity-codec.js";
import { buildProcessorRules, mappingNames, type ProcessorConfig } from "./processor-config.js";
import type { ProcessorRules } from "./processor.js";

/** A chunk of JSONL lines or array elements to process, posted by the worker pool. */
export interface ChunkTask {
  id: number;
  /** `process`: parse and map every event; `identities`: read only the identity facts, for the first pass. */
  mode: "process" | "identities";
  input: string;
  /** The chunk's layout: where its lines start, or where its elements are and their numbers (see `forEachElement`). */
  layout: { kind: "lines"; firstLine: number } | { kind: "elements"; elements: Int32Array };
  /** The chunk's bytes, transferred, and transferred back with the results, to be reused. */
  bytes: Uint8Array;
  /** Buffers of an earlier chunk's outcomes that the main thread has read, for this chunk's outcomes. */
  spare?: ResultBuffers;
  /** In `identities` mode: whether to add the keys of the events' message_ids (see `extractChunkFacts`). */
  withMessageIds?: boolean;
}

/** The first message of the pool to a worker: what decides the outcome of an event. */
export interface WorkerSetup {
  config: ProcessorConfig;
}

/** The message a worker posts once it can process chunks. */
export interface WorkerReady {
  ready: true;
}

/** The compiled config, from the first message; a worker may start before the config is known. */
let processor: { rules: ProcessorRules; names: string[] } | undefined;
/** Text bytes of the last chunk, to size the next chunk's buffer without growing it. */
let lastTextBytes = 1 << 16;

parentPort?.on("message", (message: WorkerSetup | ChunkTask) => {
  if ("config" in message) {
    processor = { rules: buildProcessorRules(message.config), names: mappingNames(message.config) };
    // Tells the pool that chunks sent now are processed at once, not after this thread's start-up.
    parentPort?.postMessage({ ready: true } satisfies WorkerReady);
    return;
  }
  if (processor === undefined) {
    throw new Error("the chunk worker received a chunk before its processor config");
  }
  processTask(message, processor.rules, processor.names);
});

function processTask(task: ChunkTask, rules: ProcessorRules, names: readonly string[]): void {
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  const { layout } = task;
  if (task.mode === "identities") {
    const withMessageIds = task.withMessageIds === true;
    const facts = layout.kind === "lines" ? extractChunkFacts(bytes, layout.firstLine, withMessageIds) : extractElementFacts(bytes, layout.elements, withMessageIds);
    const transfer = [facts.ints.buffer, facts.times.buffer, task.bytes.buffer] as ArrayBuffer[];
    if (facts.messageIdKeys !== undefined) {
      transfer.push(facts.messageIdKeys.buffer as ArrayBuffer);
    }
    parentPort?.postMessage({ id: task.id, ...facts, bytes: task.bytes }, transfer);
    return;
  }
  const chunk: RawChunk = layout.kind === "lines" ? { kind: "lines", input: task.input, firstLine: layout.firstLine, bytes } : { kind: "elements", input: task.input, elements: layout.elements, bytes };
  const { ints, text } = processChunk(chunk, rules, names, lastTextBytes + (lastTextBytes >> 3), task.spare);
  lastTextBytes = text.byteLength;
  const transfer = [ints.buffer, text.buffer, task.bytes.buffer] as ArrayBuffer[];
  parentPort?.postMessage({ id: task.id, ints, text, bytes: task.bytes }, transfer);
}
