import type { RawChunk } from "../../src/inputs/read-input.js";
import { presetMappings } from "../../src/koala/presets.js";
import { ChunkReader, processChunk } from "../../src/pipeline/chunk-codec.js";
import { processRawChunk } from "../../src/pipeline/process-lines.js";
import { buildProcessorRules, mappingNames, type ProcessorConfig } from "../../src/pipeline/processor-config.js";
import type { Figure, MeasureFigures } from "../figure.js";

const CHUNK_BYTES = 1 << 20;
const ROUNDS = 5;
const NEWLINE = 0x0a;

/** The dry run of the throughput figures: the presets, analytics.js track events skipped, no stitching. */
const config: ProcessorConfig = { mappings: presetMappings(), browserEvents: { kind: "skip" }, filters: [], stitching: false };

/**
 * Measures, on one thread, the CPU time per event of the stages that a chunk of JSONL goes through,
 * each row adding one stage to the one above, beside splitting and `JSON.parse` alone. The dry-run
 * throughput figure is the sum of these and of batching, writing and start-up, spread over the threads.
 */
export const measure: MeasureFigures = async (context) => {
  const chunks = chunksOf(context.events.map((event) => JSON.stringify(event)));
  const events = context.events.length;
  const rules = buildProcessorRules(config);
  const names = mappingNames(config);
  const parseOnly = microsecondsPerEvent(events, () => {
    let objects = 0;
    for (const chunk of chunks) {
      forEachLine(chunk.bytes, (start, end) => {
        if (JSON.parse(chunk.bytes.toString("utf8", start, end)) !== null) objects += 1;
      });
    }
    return objects;
  });
  const stages: Array<{ id: string; label: string; run: () => number }> = [
    {
      id: "process",
      label: "read, filter and map each event (processRawChunk)",
      run: () => {
        let outcomes = 0;
        for (const chunk of chunks) processRawChunk(chunk, rules, () => (outcomes += 1));
        return outcomes;
      },
    },
    {
      id: "encode",
      label: "and encode the outcomes for the main thread (processChunk)",
      run: () => chunks.reduce((total, chunk) => total + processChunk(chunk, rules, names).ints.length, 0),
    },
    {
      id: "decode",
      label: "and decode them on the main thread (ChunkReader)",
      run: () => {
        let outcomes = 0;
        for (const chunk of chunks) {
          const reader = new ChunkReader(processChunk(chunk, rules, names), chunk.input, chunk.bytes, names, { keepEventLines: false, separateEntryBuffers: false });
          for (let outcome = reader.next(); outcome !== undefined; outcome = reader.next()) outcomes += 1;
        }
        return outcomes;
      },
    },
  ];
  const figures: Figure[] = [];
  for (const stage of stages) {
    figures.push({
      id: `stages.${stage.id}.cpu-us-per-event`,
      label: `CPU per event on one thread: ${stage.label}, ${events} events`,
      unit: "µs/event",
      koalaReplay: microsecondsPerEvent(events, stage.run),
      baseline: parseOnly,
      baselineLabel: "split + JSON.parse only",
      higherIsBetter: false,
    });
  }
  return figures;
};

/** Cuts the lines into chunks of about `CHUNK_BYTES`, as the reader hands them to the workers. */
function chunksOf(lines: readonly string[]): Array<RawChunk & { kind: "lines" }> {
  const chunks: Array<RawChunk & { kind: "lines" }> = [];
  let pending: string[] = [];
  let pendingBytes = 0;
  let firstLine = 1;
  const flush = (): void => {
    chunks.push({ kind: "lines", input: "bench.jsonl", firstLine, bytes: Buffer.from(`${pending.join("\n")}\n`) });
    firstLine += pending.length;
    pending = [];
    pendingBytes = 0;
  };
  for (const line of lines) {
    pending.push(line);
    pendingBytes += Buffer.byteLength(line) + 1;
    if (pendingBytes >= CHUNK_BYTES) flush();
  }
  if (pending.length > 0) flush();
  return chunks;
}

function forEachLine(bytes: Buffer, visit: (start: number, end: number) => void): void {
  let start = 0;
  for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
    visit(start, end);
    start = end + 1;
  }
}

/**
 * Returns the median CPU time per event of `ROUNDS` runs after one unmeasured run. CPU time counts
 * the garbage collector's helper threads too, as the CPU time of the throughput figure does.
 */
function microsecondsPerEvent(events: number, run: () => number): number {
  let checksum = run();
  const costs: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const before = process.cpuUsage();
    checksum += run();
    const used = process.cpuUsage(before);
    costs.push((used.user + used.system) / events);
  }
  if (checksum === 0) throw new Error("the sample produced no outcomes");
  costs.sort((left, right) => left - right);
  return costs[Math.floor(ROUNDS / 2)] ?? Number.NaN;
}
