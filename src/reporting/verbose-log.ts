import type { RecordOrigin } from "../inputs/record.js";
import { hideEmails } from "./email-mask.js";

/**
 * A retry as the delivery stage reports it. The fields are the ones `--verbose` prints; any event
 * object with them (the delivery stage's `RetryEvent`) can be passed.
 */
export interface RetryLogEvent {
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  reason: string;
  /** Wait before the next attempt, in milliseconds; with `heldForOutage`, before the next test request (0 while one is in flight). */
  delayMs: number;
  /** Whether the request waits with the others until Koala responds to a test request during an outage. */
  heldForOutage?: boolean;
  entries: number;
  status?: number;
  errorCode?: string;
  /** The entries of the retried request, which all belong to one person, so the line can name it and the input. */
  batchEntries?: readonly RetriedEntry[];
}

/** The fields of a retried entry that a retry line shows (the delivery stage's `KoalaEntry` fits). */
export interface RetriedEntry {
  origin: RecordOrigin;
  /** `profile_id`, else `email`, when the delivery stage has set it. */
  personId?: string;
  person: { profile_id?: string; email?: string };
}

/** An entry given up on, as the delivery stage reports it (its `DeadLetterEvent` fits). */
export interface DeadLetterLogEvent {
  entry: { origin: RecordOrigin; mappingName: string; messageId: string };
  reason: string;
  status?: number;
  attempts: number;
}

/**
 * Writes one `--verbose` line for a retry: what failed, how, and when the next attempt starts, with
 * the person and the first input line of the request when the event carries its entries.
 * `maxAttempts`, the run's `--max-attempts`, lets the line of a held request state that it used them up.
 */
export function formatRetryLog(event: RetryLogEvent, maxAttempts?: number): string {
  const entries = event.entries === 1 ? "1 entry" : `${event.entries} entries`;
  const where = event.batchEntries === undefined ? "" : describeRetriedEntries(event.batchEntries);
  const cause = describeCause(event.reason, event.status, event.errorCode);
  if (event.heldForOutage === true) {
    const nextTest = event.delayMs > 0 ? ` (next test in ${formatDelay(event.delayMs)})` : "";
    const usedUp =
      maxAttempts !== undefined && event.attempt >= maxAttempts
        ? `; the ${maxAttempts} attempts of --max-attempts are used up, so once Koala responds it is dead-lettered at its next failure`
        : "";
    return `retry: attempt ${event.attempt} for ${entries}${where} failed (${cause}); Koala is not responding, so the request is held until Koala responds to a test request${nextTest}${usedUp}`;
  }
  return `retry: attempt ${event.attempt} for ${entries}${where} failed (${cause}); next attempt in ${formatDelay(event.delayMs)}`;
}

/** Names the person of a retried request and where its entries were read: " (person …, a.jsonl:4 and 2 more)". */
function describeRetriedEntries(batchEntries: readonly RetriedEntry[]): string {
  const first = batchEntries[0];
  if (first === undefined) return "";
  const personId = first.personId ?? first.person.profile_id ?? first.person.email;
  // Verbose lines end up in CI logs, which must not show people's emails.
  const person = personId === undefined ? "" : `person ${hideEmails(personId)}, `;
  const more = batchEntries.length > 1 ? ` and ${batchEntries.length - 1} more` : "";
  return ` (${person}${first.origin.input}:${first.origin.line}${more})`;
}

/**
 * Writes one `--verbose` line for a dead-lettered entry: which event, which mapping, why.
 * `maxAttempts`, the run's `--max-attempts`, lets the line explain a count above it.
 */
export function formatDeadLetterLog(event: DeadLetterLogEvent, maxAttempts?: number): string {
  const { origin, mappingName, messageId } = event.entry;
  const attempts = event.attempts === 1 ? "1 attempt" : `${event.attempts} attempts`;
  // Every attempt counts, but a request that runs out of attempts while Koala has an outage is held
  // rather than dead-lettered. Only such a request is dead-lettered after more attempts than the limit.
  const overLimit = maxAttempts !== undefined && event.attempts > maxAttempts ? ` (more than --max-attempts ${maxAttempts}, because the request was held through an outage)` : "";
  return `dead letter: ${origin.input}:${origin.line} (mapping "${mappingName}", messageId ${messageId}) after ${attempts}${overLimit}: ${describeCause(event.reason, event.status, undefined)}`;
}

function describeCause(reason: string, status: number | undefined, errorCode: string | undefined): string {
  const details = [status === undefined ? undefined : `HTTP ${status}`, errorCode].filter((detail) => detail !== undefined);
  return details.length === 0 ? reason : `${reason}, ${details.join(", ")}`;
}

function formatDelay(delayMs: number): string {
  return delayMs < 1000 ? `${Math.round(delayMs)} ms` : `${(delayMs / 1000).toFixed(1)} s`;
}

/**
 * Writes one `--verbose` line for an event a mapping matched but could not map: where, which mapping,
 * why. The reason may quote the value it found, and an email there is hidden as `hideEmails` does.
 */
export function formatInvalidLog(origin: RecordOrigin, mapping: string, reason: string): string {
  return `invalid: ${origin.input}:${origin.line} (mapping "${mapping}"): ${hideEmails(reason)}`;
}
