import { dirname, resolve } from "node:path";
import { existsSync } from "node:fs";
import { findReadOnceInputs } from "../inputs/read-once.js";
import { CheckpointNotFoundError, defaultDeadLetterPath, defaultStatePath, legacyStatePath, listUnfinishedCheckpoints } from "./checkpoint.js";
import { parseEndpoint } from "./http.js";
import { rejectOutputPathsAmongInputs } from "./output-paths.js";
import { DELIVERY_DEFAULTS, type DeliveryOptions, KOALA_MAX_BATCH_SIZE, type ResolvedDeliveryOptions } from "./options.js";

/**
 * Checks the options and fills in defaults, once, into a frozen object. Each error names the
 * option, the rule and the value received.
 */
export function resolveDeliveryOptions(options: DeliveryOptions): ResolvedDeliveryOptions {
  parseEndpoint(options.endpoint);
  if (!options.dryRun && (options.publicKey === undefined || options.publicKey.length === 0)) {
    throw new Error("Missing publicKey: a public key is required unless dryRun is set.");
  }
  if (options.userAgent.length === 0) {
    throw new Error("Invalid userAgent: expected a non-empty string, because Koala may ignore requests without one.");
  }

  const cwd = options.cwd ?? process.cwd();
  const statePath = options.statePath ?? chooseDefaultStatePath(options, cwd);
  const resolved: ResolvedDeliveryOptions = {
    endpoint: options.endpoint.replace(/\/+$/, ""),
    publicKey: options.publicKey,
    dryRun: options.dryRun,
    output: options.output,
    userAgent: options.userAgent,
    concurrency: integerOption("concurrency", options.concurrency, DELIVERY_DEFAULTS.concurrency, 1, 1024),
    adaptiveConcurrency: options.adaptiveConcurrency ?? DELIVERY_DEFAULTS.adaptiveConcurrency,
    maxRps: options.maxRps === undefined ? undefined : positiveNumberOption("maxRps", options.maxRps),
    maxBatchSize: integerOption("maxBatchSize", options.maxBatchSize, DELIVERY_DEFAULTS.maxBatchSize, 1, KOALA_MAX_BATCH_SIZE),
    maxBufferedPersons: integerOption("maxBufferedPersons", options.maxBufferedPersons, DELIVERY_DEFAULTS.maxBufferedPersons, 1),
    maxBufferedBytes: integerOption("maxBufferedBytes", options.maxBufferedBytes, DELIVERY_DEFAULTS.maxBufferedBytes, 1024),
    flushAfterRecords: integerOption("flushAfterRecords", options.flushAfterRecords, DELIVERY_DEFAULTS.flushAfterRecords, 1),
    // A dry run writes neither a checkpoint nor dead letters: it delivers nothing.
    statePath: options.dryRun ? undefined : statePath,
    deadLetterPath: options.dryRun ? undefined : (options.deadLetterPath ?? defaultDeadLetterPath(statePath)),
    resume: options.resume,
    resumeStatePath: options.resume ? statePath : undefined,
    restart: options.restart ?? false,
    inputs: [...options.inputs],
    cwd,
    maxAttempts: integerOption("maxAttempts", options.maxAttempts, DELIVERY_DEFAULTS.maxAttempts, 1),
    maxRetryTimeMs: integerOption("maxRetryTimeMs", options.maxRetryTimeMs, DELIVERY_DEFAULTS.maxRetryTimeMs, 0),
    retryAfterCapMs: integerOption("retryAfterCapMs", options.retryAfterCapMs, DELIVERY_DEFAULTS.retryAfterCapMs, 0),
    retryBaseDelayMs: integerOption("retryBaseDelayMs", options.retryBaseDelayMs, DELIVERY_DEFAULTS.retryBaseDelayMs, 1),
    retryMaxDelayMs: integerOption("retryMaxDelayMs", options.retryMaxDelayMs, DELIVERY_DEFAULTS.retryMaxDelayMs, 1),
    timeoutMs: integerOption("timeoutMs", options.timeoutMs, DELIVERY_DEFAULTS.timeoutMs, 1),
    maxOutageMs: integerOption("maxOutageMs", options.maxOutageMs, DELIVERY_DEFAULTS.maxOutageMs, 0),
    stopGraceMs: integerOption("stopGraceMs", options.stopGraceMs, DELIVERY_DEFAULTS.stopGraceMs, 0),
    checkpointIntervalMs: integerOption("checkpointIntervalMs", options.checkpointIntervalMs, DELIVERY_DEFAULTS.checkpointIntervalMs, 0),
    events: options.events ?? {},
    entrySettingsHash: options.entrySettingsHash,
    entrySettingHashes: options.entrySettingHashes,
    random: options.random ?? Math.random,
  };
  rejectOutputPathsAmongInputs({
    statePath: resolved.statePath,
    deadLetterPath: resolved.deadLetterPath,
    deadLetterPathGiven: options.deadLetterPath !== undefined,
    inputs: resolved.inputs,
    givenInputs: options.givenInputs ?? options.inputs,
    cwd,
  });
  return Object.freeze(resolved);
}

/**
 * Returns the default state file of the inputs as given. A resume that finds none there takes the
 * state file that an earlier version named after the files read, when it exists, so that a run
 * stopped before an upgrade can still be resumed. When neither exists but the folder has state
 * files of runs that did not finish, it raises CheckpointNotFoundError, which lists them.
 */
function chooseDefaultStatePath(options: DeliveryOptions, cwd: string): string {
  const path = defaultStatePath(options.givenInputs ?? options.inputs, cwd);
  if (!options.resume || existsSync(path)) {
    return path;
  }
  const legacyPath = legacyStatePath(options.inputs, cwd);
  if (existsSync(legacyPath)) {
    return legacyPath;
  }
  // Inputs read only once cannot be resumed at all, which the checkpoint reports in its own words.
  if (findReadOnceInputs(options.inputs).length === 0) {
    const unfinished = listUnfinishedCheckpoints(dirname(path));
    if (unfinished.length > 0) {
      throw new CheckpointNotFoundError(path, unfinished);
    }
  }
  return path;
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Invalid ${name}: expected an integer from ${min} to ${max}, got ${String(value)} (${typeof value}).`);
  }
  return value;
}

function positiveNumberOption(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`Invalid ${name}: expected a number above 0, got ${String(value)} (${typeof value}).`);
  }
  return value;
}
