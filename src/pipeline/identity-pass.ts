import { IdentityGraph, loadIdentities } from "../identity/index.js";
import { forEachLine } from "../inputs/jsonl.js";
import { readInput, type ReadInputOptions } from "../inputs/read-input.js";
import type { InputSource } from "../inputs/expand-inputs.js";

export interface IdentityPassOptions {
  /** CSV or JSONL file of userId/anonymousId → email given with `--identities`. */
  identitiesFile?: string;
  readOptions: ReadInputOptions;
  warn: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Builds the identity graph before any event is sent: from the identities file, then from a first
 * pass over every input except stdin, which cannot be read twice. Unreadable lines are skipped here
 * silently, because the second pass reports and counts each of them once.
 */
export async function buildIdentityGraph(sources: readonly InputSource[], options: IdentityPassOptions): Promise<IdentityGraph> {
  const graph = new IdentityGraph();
  if (options.identitiesFile !== undefined) {
    const loaded = await loadIdentities(options.identitiesFile, graph, { onProblem: (problem) => options.warn(problem.message) });
    if (loaded.badRows > 0) {
      options.warn(`${options.identitiesFile}: ${loaded.badRows} bad rows skipped; ${loaded.identities} identities read`);
    }
  }
  for (const source of sources) {
    if (source.path === "-" || options.signal?.aborted === true) {
      continue;
    }
    try {
      await observeInput(source.path, graph, options.readOptions);
    } catch {
      // The second pass reads the same input and reports why it cannot be read.
    }
  }
  return graph;
}

async function observeInput(path: string, graph: IdentityGraph, readOptions: ReadInputOptions): Promise<void> {
  for await (const batch of readInput(path, readOptions)) {
    if (batch.kind === "items") {
      for (const item of batch.items) {
        if (item.kind === "record") {
          graph.observe(item.event);
        }
      }
      continue;
    }
    forEachLine(batch.bytes.toString("utf8"), batch.firstLine, (line) => {
      const event = parseObject(line);
      if (event !== undefined) {
        graph.observe(event);
      }
    });
  }
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (line.length < 2) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
