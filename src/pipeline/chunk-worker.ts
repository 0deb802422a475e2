import { parentPort, workerData } from "node:worker_threads";
import { encodeOutcomes } from "./chunk-codec.js";
import { extractChunkFacts } from "./identity-codec.js";
import { processLines } from "./process-lines.js";
import { buildProcessorRules, mappingNames, type ProcessorConfig } from "./processor-config.js";

/** A chunk of JSONL lines to process, posted by the worker pool. */
export interface ChunkTask {
  id: number;
  /** `process`: parse and map every event; `identities`: read only the identity facts, for the first pass. */
  mode: "process" | "identities";
  input: string;
  firstLine: number;
  bytes: Uint8Array;
}

const config = workerData as ProcessorConfig;
const rules = buildProcessorRules(config);
const names = mappingNames(config);

parentPort?.on("message", (task: ChunkTask) => {
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  if (task.mode === "identities") {
    const facts = extractChunkFacts(bytes);
    parentPort?.postMessage({ id: task.id, ...facts }, [facts.ints.buffer as ArrayBuffer, facts.times.buffer as ArrayBuffer]);
    return;
  }
  const encoded = encodeOutcomes(processLines(task.input, task.firstLine, bytes, rules), names);
  parentPort?.postMessage({ id: task.id, strings: encoded.strings, ints: encoded.ints }, [encoded.ints.buffer as ArrayBuffer]);
});
