import type { Delivery, DeliveryOptions } from "./options.js";
import { DeliveryRun } from "./run.js";
import { resolveDeliveryOptions } from "./settings.js";

/**
 * Creates a delivery run: per-person batching, retries, throttling, checkpoint and dead letters.
 * Raises on invalid options, on `resume` with stdin among the inputs, and with `StateMismatchError`
 * when `resume` finds an input changed since the checkpoint.
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  return new DeliveryRun(resolveDeliveryOptions(options));
}

export { checkPublicKey, type KeyCheckResult } from "./http.js";
export { classifyOutcome } from "./outcome.js";
export type { AttemptOutcome, DeadLetterReason, FatalReason, OutcomeContext, RetryLimits, RetryReason, Verdict } from "./outcome.js";
export { computeBackoffDelay, parseRetryAfter } from "./backoff.js";
export { CannotResumeError, CheckpointNotFoundError, defaultStatePath, defaultDeadLetterPath, InvalidStateFileError, StateMismatchError, UnfinishedRunError, type InputNotRead, type NoIdentityRecordsLeft, type UnfinishedCheckpoint } from "./checkpoint.js";
export { DestinationMismatchError } from "./destination.js";
export { DEAD_LETTER_MARKER, InvalidDeadLetterLineError, readDeadLetterLine } from "./dead-letter.js";
export { countUndeliveredEarlier, type DeadLetterFileStatus, type EarlierDeadLetterFile } from "./dead-letter-files.js";
export { buildBatchBody } from "./body.js";
export { DELIVERY_DEFAULTS, KOALA_MAX_BATCH_SIZE } from "./options.js";
export { DeadLetterPathError, StatePathError } from "./output-paths.js";
export type {
  DryRunOutput,
  DeadLetterEvent,
  Delivery,
  DeliveryEvents,
  DeliveryOptions,
  DeliveryResult,
  EarlierDeadLetters,
  FatalCause,
  RequestSentEvent,
  RetryEvent,
  RunFailureReason,
} from "./options.js";
export type { EntryKind, KoalaEntry, PersonFields } from "./entry.js";
