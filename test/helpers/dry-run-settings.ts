import { Writable } from "node:stream";
import { presetMappings } from "../../src/koala/presets.js";
import { parseBrowserEventsPolicy } from "../../src/pipeline/browser-events.js";
import type { ReplaySettings } from "../../src/pipeline/run-replay.js";

/** Returns the settings of a dry run of `path` with the preset mappings and no stitching, as `runReplay` takes them. */
export function dryRunSettings(path: string): ReplaySettings {
  return {
    inputs: [path],
    mappings: presetMappings(),
    browserEvents: parseBrowserEventsPolicy("skip"),
    filters: [],
    stitch: false,
    dryRun: true,
    endpoint: "http://127.0.0.1:9",
    userAgent: "koala-replay-test",
    delivery: { concurrency: 1, adaptiveConcurrency: false, maxRps: undefined, maxBatchSize: 30, deadLetterPath: undefined, statePath: undefined, resume: false, timeoutMs: 1000, maxAttempts: 1 },
  };
}

/** Returns a stream that discards what a dry run prints. */
export function discardingOutput(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
