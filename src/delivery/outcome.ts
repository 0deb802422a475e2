import { type BackoffLimits, computeBackoffDelay, parseRetryAfter } from "./backoff.js";

/**
 * Outcome of one attempt of a `/batch` request: a response (status and the
 * `Retry-After` header), or a network error identified by its Node or undici error code.
 */
export type AttemptOutcome =
  | {
      kind: "response";
      status: number;
      retryAfter?: string | undefined;
      /** Whether a 2xx body was an HTML page, as a website sends, rather than an API response. */
      webPage?: boolean;
    }
  | { kind: "network-error"; code: string };

/** Reason for retrying an attempt. */
export type RetryReason =
  | "rate-limited"
  | "server-error"
  | "request-timeout"
  | "timeout"
  | "connection-reset"
  | "connection-refused"
  | "network-unreachable"
  | "network-error"
  | "auth-not-confirmed";

/** Reason for writing an entry to the dead-letter file instead of delivering it. */
export type DeadLetterReason =
  | "rejected-by-api"
  | "client-error"
  | "unexpected-status"
  | "retries-exhausted"
  | "retry-time-exhausted";

/** Reason for stopping the whole run, because every further request would fail the same way. */
export type FatalReason =
  | "unauthorized"
  | "forbidden"
  | "not-found"
  | "method-not-allowed"
  | "redirected"
  | "not-implemented"
  | "http-version-not-supported"
  | "host-not-found"
  /** A proxy on the way asked for credentials (407), which koala-replay does not send. */
  | "proxy-authentication-required"
  /** The server rejected the form that every request has (411, 414, 415, 426, 431), whatever its entries. */
  | "request-form-rejected"
  /** Every connection was refused from the start of the run: nothing listens at the endpoint. */
  | "unreachable"
  /**
   * Koala did not respond for `maxOutageMs` while the requests of several persons kept failing with
   * connection errors, 5xx or 408.
   */
  | "unavailable"
  /** A success status with an HTML page, so a website sent the response, not Koala's API. */
  | "web-page";

/** Decision that the delivery loop carries out for an attempt's outcome. */
export type Verdict =
  | { action: "delivered" }
  | { action: "retry"; reason: RetryReason; delayMs: number; pauseAllSenders: boolean }
  /** The API rejected a request of several entries: send each half again to find the bad entries. */
  | { action: "split" }
  | { action: "give-up"; reason: DeadLetterReason; lastRetryReason?: RetryReason }
  /** `confirmWithProbe`: check the key with `GET /auth` first, because one odd response must not end a run. */
  | { action: "fatal"; reason: FatalReason; confirmWithProbe: boolean };

export interface RetryLimits extends BackoffLimits {
  /** Attempts per request, the first one included. */
  maxAttempts: number;
  /** Time from an entry's first attempt after which it is not retried again. */
  maxRetryTimeMs: number;
  /** Upper bound on a wait requested by `Retry-After`. */
  retryAfterCapMs: number;
}

export interface OutcomeContext {
  /** Attempts made so far, this one included (1 after the first attempt). */
  attempt: number;
  /** Milliseconds since the first attempt of these entries. */
  elapsedMs: number;
  /** Entries in the request: a rejected request of more than one entry is split. */
  entryCount: number;
  /** Current time in epoch milliseconds, to resolve a `Retry-After` HTTP date. */
  nowMs: number;
  limits: RetryLimits;
  /** Returns a number in [0, 1), for the backoff jitter. */
  random: () => number;
  /** Whether the API has responded to any request of this run; undefined counts as yes. */
  answeredBefore?: boolean;
}

/**
 * Attempts of one request refused before the run is stopped as unreachable, when the API has never
 * responded in this run. Refused connections later in a run are retried as usual, because an API
 * that responded before is likely restarting.
 */
export const REFUSED_ATTEMPTS_BEFORE_UNREACHABLE = 3;

type Decision =
  | { action: "delivered" }
  | { action: "retry"; reason: RetryReason }
  | { action: "split-or-reject" }
  | { action: "give-up"; reason: DeadLetterReason }
  | { action: "fatal"; reason: FatalReason; confirmWithProbe: boolean };

/**
 * Classifies the outcome of one attempt. Pure: the same outcome and context give the same verdict,
 * so the delivery loop only obeys it and a table of cases can test every status and error.
 *
 * Retrying a POST is safe here, unlike in general HTTP clients, because every entry carries
 * `message_id`, Koala's idempotency key: an entry received twice is recorded once. So an attempt
 * whose response was lost (timeout, reset connection) can be sent again without doubling events.
 */
export function classifyOutcome(outcome: AttemptOutcome, context: OutcomeContext): Verdict {
  if (outcome.kind === "response" && outcome.webPage === true && outcome.status >= 200 && outcome.status < 300) {
    // Counting these entries as delivered would lose them: a resume would skip them.
    return { action: "fatal", reason: "web-page", confirmWithProbe: false };
  }
  const decision = outcome.kind === "response" ? classifyStatus(outcome.status) : classifyNetworkError(outcome.code);
  switch (decision.action) {
    case "delivered":
    case "give-up":
    case "fatal":
      return decision;
    case "split-or-reject":
      return context.entryCount > 1 ? { action: "split" } : { action: "give-up", reason: "rejected-by-api" };
    case "retry":
      if (decision.reason === "connection-refused" && context.answeredBefore === false && context.attempt >= REFUSED_ATTEMPTS_BEFORE_UNREACHABLE) {
        return { action: "fatal", reason: "unreachable", confirmWithProbe: false };
      }
      return decideRetry(decision.reason, outcome, context);
    default:
      return assertNever(decision);
  }
}

export function decideRetry(reason: RetryReason, outcome: AttemptOutcome, context: OutcomeContext): Verdict {
  const { limits } = context;
  if (context.attempt >= limits.maxAttempts) {
    return { action: "give-up", reason: "retries-exhausted", lastRetryReason: reason };
  }

  const retryAfterMs = outcome.kind === "response" ? parseRetryAfter(outcome.retryAfter, context.nowMs) : undefined;
  // Retry-After sets the least wait, and the backoff still grows with the attempts. A server that keeps
  // returning Retry-After: 0, a date already past, or 1 would otherwise use up every attempt within
  // milliseconds or seconds, far sooner than without the header.
  const backoffMs = computeBackoffDelay(context.attempt, limits, context.random);
  const delayMs = retryAfterMs === undefined ? backoffMs : Math.max(Math.min(retryAfterMs, limits.retryAfterCapMs), backoffMs);

  if (context.elapsedMs + delayMs > limits.maxRetryTimeMs) {
    return { action: "give-up", reason: "retry-time-exhausted", lastRetryReason: reason };
  }
  // A 429 is about the whole project's rate, so every sender waits, not only the one that got it.
  return { action: "retry", reason, delayMs, pauseAllSenders: reason === "rate-limited" };
}

function classifyStatus(status: number): Decision {
  if (status >= 200 && status < 300) {
    return { action: "delivered" };
  }
  if (status >= 300 && status < 400) {
    // undici does not follow redirects: the endpoint is wrong (http instead of https, an old host).
    return { action: "fatal", reason: "redirected", confirmWithProbe: false };
  }
  if (status >= 400 && status < 500) {
    return classifyClientError(status);
  }
  if (status >= 500 && status < 600) {
    return classifyServerError(status);
  }
  return { action: "give-up", reason: "unexpected-status" };
}

function classifyClientError(status: number): Decision {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return { action: "split-or-reject" };
    case 401:
      return { action: "fatal", reason: "unauthorized", confirmWithProbe: true };
    case 403:
      return { action: "fatal", reason: "forbidden", confirmWithProbe: true };
    case 404:
      return { action: "fatal", reason: "not-found", confirmWithProbe: true };
    case 405:
      return { action: "fatal", reason: "method-not-allowed", confirmWithProbe: false };
    case 407:
      return { action: "fatal", reason: "proxy-authentication-required", confirmWithProbe: false };
    // Length, URL, content type, protocol and headers are alike in every request, so each would get the same status.
    case 411:
    case 414:
    case 415:
    case 426:
    case 431:
      return { action: "fatal", reason: "request-form-rejected", confirmWithProbe: false };
    case 408:
      return { action: "retry", reason: "request-timeout" };
    case 429:
      return { action: "retry", reason: "rate-limited" };
    default:
      return { action: "give-up", reason: "client-error" };
  }
}

function classifyServerError(status: number): Decision {
  switch (status) {
    // The server states it cannot handle this request at all, so every retry would fail alike.
    case 501:
      return { action: "fatal", reason: "not-implemented", confirmWithProbe: false };
    case 505:
      return { action: "fatal", reason: "http-version-not-supported", confirmWithProbe: false };
    default:
      return { action: "retry", reason: "server-error" };
  }
}

function classifyNetworkError(code: string): Decision {
  switch (code) {
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
    case "ETIMEDOUT":
      return { action: "retry", reason: "timeout" };
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
    case "EPIPE":
    case "ECONNABORTED":
      return { action: "retry", reason: "connection-reset" };
    case "ECONNREFUSED":
      return { action: "retry", reason: "connection-refused" };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENETDOWN":
    case "EAI_AGAIN":
      return { action: "retry", reason: "network-unreachable" };
    case "ENOTFOUND":
      return { action: "fatal", reason: "host-not-found", confirmWithProbe: false };
    default:
      // An unknown failure may be transient; the attempt and time limits still bound it.
      return { action: "retry", reason: "network-error" };
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled outcome decision: ${JSON.stringify(value)}`);
}
