import { setMaxListeners } from "node:events";
import { formatCount } from "../reporting/count-format.js";
import { maskSecret } from "../reporting/mask.js";
import { formatDuration } from "../reporting/progress-text.js";
import { computeBackoffDelay } from "./backoff.js";
import { type Batch, type PersonLane, splitBatch } from "./batcher.js";
import { buildBatchBody, writeBatchBody } from "./body.js";
import type { DeadLetterDetails } from "./dead-letter.js";
import { ABORTED_CODE, type AttemptResult, KoalaClient, printableBatchUrl } from "./http.js";
import type { FatalCause, ResolvedDeliveryOptions } from "./options.js";
import { classifyOutcome, decideRetry, type FatalReason, type OutcomeContext, type RetryLimits, type RetryReason, type Verdict } from "./outcome.js";
import { ENTRY_FAILURE_MAX_DELAY_MS, isOutageFailure, KoalaHealth, mayFailOnEntries, OutageGate, type OutageState, OutageTracker } from "./outage.js";
import { ConcurrencyController, RateLimiter } from "./throttle.js";

const DRY_RUN_LINE_END = Buffer.from("}\n");

/** How long a GET /auth that accepted the key covers later 401, 403 or 404 responses from /batch. */
const ACCEPTED_PROBE_REUSE_MS = 10_000;

/** Callbacks from the sender to the run, which keeps the counts and the checkpoint. */
export interface SenderCallbacks {
  delivered(batch: Batch): void;
  deadLettered(batch: Batch, details: DeadLetterDetails): void;
  retried(reason: RetryReason): void;
  requestSent(batch: Batch): void;
  /** Koala rejected or failed on a batch of several entries, whose halves are sent again. */
  split(batch: Batch): void;
  fatal(cause: FatalCause): void;
  /** A lane finished a request, delivered or not: room may have been freed. */
  settled(): void;
}

/**
 * Sends closed batches: one request at a time per person, at most `limit` in flight, at most
 * `maxRps` started per second, every sender paused after a 429, and during an outage one test
 * request at a time (`OutageGate`). Obeys `classifyOutcome` for every response. In a dry run it
 * writes each request to the output instead.
 *
 * The gate is its own rather than `p-limit`, because a person's next batch may only start when the
 * previous one is done, every sender must pause together after a 429, and AIMD changes the limit
 * while requests run. A queue of tasks could do none of these without holding a closure per batch.
 */
export class Sender {
  private readonly readyLanes: PersonLane[] = [];
  private readyHead = 0;
  private readonly retryReady: Batch[] = [];
  /** Requests sent and not yet handled, including the wait for an `/auth` probe. */
  private inFlight = 0;
  /** Lanes with a batch in flight or waiting for a retry. */
  private busyLanes = 0;
  private closing: Promise<void> | undefined;
  private pausedUntilMs = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private outputBlocked = false;
  private halted = false;
  /** Whether Koala has responded to any request, which separates a wrong endpoint from a restart when connections are refused. */
  private answeredBefore = false;
  private readonly outageTracker = new OutageTracker();
  /** Holds requests during an outage, while one test request at a time checks whether Koala is back. */
  private readonly outageGate: OutageGate;
  /**
   * Whether the next test request of an outage takes a batch never sent. Set after a test got a 5xx
   * or 408 response, because every held batch may contain entries that make Koala fail every time.
   */
  private testFreshBatchNext = false;
  /** Fires when the current outage reaches `maxOutageMs`, so that the run stops even while every request waits for its backoff. */
  private outageTimer: NodeJS.Timeout | undefined;
  /** Batches waiting for their backoff, with the epoch millisecond at which each is sent again and its timer. */
  private readonly retryTimers = new Map<Batch, { atMs: number; timer: NodeJS.Timeout }>();
  private authProbe: Promise<AttemptResult> | undefined;
  /** The last GET /auth that accepted the key, while batches were rejected with 401, 403 or 404. */
  private acceptedProbe: { atMs: number; outcome: AttemptResult["outcome"] } | undefined;
  private readonly controller: ConcurrencyController;
  private readonly rateLimiter: RateLimiter;
  private readonly client: KoalaClient | undefined;
  /** Tells an outage from entries that make Koala fail, with GET /auth; undefined in a dry run. */
  private readonly health: KoalaHealth | undefined;
  /** Aborted when the stop grace period is over: ends the requests still in flight. */
  private readonly requestAbort = createUnlimitedAbortController();
  /** Start of each dry-run line, up to the body, with the key masked in the URL. */
  private readonly dryRunLineStart: Buffer;
  private idleWaiters: (() => void)[] = [];
  private readonly retryLimits: RetryLimits;

  constructor(
    private readonly options: ResolvedDeliveryOptions,
    private readonly callbacks: SenderCallbacks,
    private readonly releaseLane: (lane: PersonLane) => void,
  ) {
    this.controller = new ConcurrencyController(options.concurrency, options.adaptiveConcurrency, (limit) =>
      options.events.onConcurrencyChange?.(limit),
    );
    this.rateLimiter = new RateLimiter(options.maxRps);
    this.retryLimits = {
      maxAttempts: options.maxAttempts,
      maxRetryTimeMs: options.maxRetryTimeMs,
      retryAfterCapMs: options.retryAfterCapMs,
      baseDelayMs: options.retryBaseDelayMs,
      maxDelayMs: options.retryMaxDelayMs,
    };
    this.outageGate = new OutageGate(this.retryLimits, options.random);
    this.dryRunLineStart = Buffer.from(`{"method":"POST","url":${JSON.stringify(printableBatchUrl(options.endpoint, options.publicKey))},"body":`);
    this.client =
      options.dryRun || options.publicKey === undefined
        ? undefined
        : new KoalaClient({
            endpoint: options.endpoint,
            publicKey: options.publicKey,
            userAgent: options.userAgent,
            connections: options.concurrency,
            timeoutMs: options.timeoutMs,
          });
    const client = this.client;
    this.health = client === undefined ? undefined : new KoalaHealth(() => client.probeAuth(this.requestAbort.signal));
  }

  /** Takes a lane whose batch was just closed. */
  schedule(lane: PersonLane): void {
    if (!lane.busy && !lane.scheduled && lane.queued.length > 0) {
      lane.scheduled = true;
      this.readyLanes.push(lane);
    }
    this.pump();
  }

  /** Whether every closed batch is delivered or dead-lettered. */
  get isIdle(): boolean {
    return this.inFlight === 0 && this.busyLanes === 0 && this.readyHead >= this.readyLanes.length;
  }

  /** Whether the dry-run output asked the writer to wait for `drain`, so the run should stop taking records. */
  get waitingForOutput(): boolean {
    return this.outputBlocked;
  }

  /** Requests started whose response has not arrived yet. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /**
   * Returns how long Koala has not responded since a request failed with a connection error, a 5xx or
   * a 408, and when no request is in flight, how long until the next one starts: during an outage the
   * next test request. Undefined while the last request that got a result got a response.
   */
  koalaNotResponding(nowMs: number): { forMs: number; nextRetryInMs: number | undefined; onlyErrors: boolean } | undefined {
    const failing = this.outageTracker.failingSince;
    if (failing === undefined || this.halted) {
      return undefined;
    }
    const nextRetryAtMs = this.inFlight === 0 ? this.nextRequestAtMs() : undefined;
    return {
      forMs: nowMs - failing.sinceMs,
      nextRetryInMs: nextRetryAtMs === undefined ? undefined : Math.max(0, nextRetryAtMs - nowMs),
      onlyErrors: failing.failedResponses === failing.failedAttempts,
    };
  }

  /** Returns the epoch millisecond at which the next retry starts, or undefined when none waits. */
  private nextRequestAtMs(): number | undefined {
    let nextAtMs: number | undefined;
    if (this.outageGate.isClosed) {
      nextAtMs = this.outageGate.nextProbeAtMs;
    } else {
      for (const { atMs } of this.retryTimers.values()) {
        nextAtMs = nextAtMs === undefined ? atMs : Math.min(nextAtMs, atMs);
      }
    }
    // After a 429 every sender waits, so a retry whose backoff ended still waits for the pause.
    return nextAtMs === undefined ? undefined : Math.max(nextAtMs, this.pausedUntilMs);
  }

  /** Resolves when no request is in flight or waiting (the queues are empty, or the sender halted). */
  whenIdle(): Promise<void> {
    if (this.isIdleOrHalted()) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops starting requests and cancels backoff waits; requests in flight go on. */
  halt(): void {
    this.halted = true;
    for (const { timer } of this.retryTimers.values()) {
      clearTimeout(timer);
    }
    this.retryTimers.clear();
    clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    if (this.wakeTimer !== undefined) {
      clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
    }
    this.notifyIfIdle();
  }

  /** Waits up to `graceMs` for requests in flight, then aborts them. */
  async drainInFlight(graceMs: number): Promise<void> {
    this.halt();
    if (this.inFlight > 0) {
      const timer = setTimeout(() => this.requestAbort.abort(), graceMs);
      await this.whenIdle();
      clearTimeout(timer);
    }
  }

  /** Closes the connection pool; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.requestAbort.signal.aborted ? (this.client?.destroy() ?? Promise.resolve()) : (this.client?.close() ?? Promise.resolve());
    return this.closing;
  }

  private isIdleOrHalted(): boolean {
    return this.halted ? this.inFlight === 0 : this.isIdle;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdleOrHalted()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }

  private pump(): void {
    while (!this.halted && this.hasWork()) {
      if (this.options.dryRun) {
        this.writeDryRunRequest(this.nextBatch());
        continue;
      }
      // While a 401, 403 or 404 is being confirmed, new requests would most likely fail alike.
      if (this.inFlight >= this.controller.limit || this.authProbe !== undefined) {
        return;
      }
      const nowMs = Date.now();
      let waitMs = Math.max(this.pausedUntilMs - nowMs, this.rateLimiter.delayMs(nowMs));
      const isProbe = this.outageGate.isClosed;
      if (isProbe) {
        // During an outage one test request at a time goes, and its result calls pump again.
        const probeWaitMs = this.outageGate.waitMs(nowMs);
        if (probeWaitMs === undefined) {
          return;
        }
        waitMs = Math.max(waitMs, probeWaitMs);
      }
      if (waitMs > 0) {
        this.wakeAfter(waitMs);
        return;
      }
      this.rateLimiter.take(nowMs);
      if (isProbe) {
        this.outageGate.startProbe();
      }
      const preferFresh = isProbe && this.testFreshBatchNext;
      this.testFreshBatchNext = false;
      void this.attempt(this.nextBatch(preferFresh), isProbe);
    }
    this.notifyIfIdle();
  }

  private hasWork(): boolean {
    return this.retryReady.length > 0 || this.readyHead < this.readyLanes.length;
  }

  /**
   * Takes a batch waiting for a retry first, unless `preferFresh` and a batch never sent is ready. A
   * person's retry keeps its lane busy, so either way a person's earlier entries go before later ones.
   */
  private nextBatch(preferFresh = false): Batch {
    const fresh = preferFresh && this.readyHead < this.readyLanes.length;
    const retry = fresh ? undefined : this.retryReady.shift();
    if (retry !== undefined) {
      return retry;
    }
    const lane = this.readyLanes[this.readyHead] as PersonLane;
    this.readyHead += 1;
    if (this.readyHead > 1024 && this.readyHead * 2 > this.readyLanes.length) {
      this.readyLanes.splice(0, this.readyHead);
      this.readyHead = 0;
    }
    lane.scheduled = false;
    lane.busy = true;
    this.busyLanes += 1;
    return lane.queued.shift() as Batch;
  }

  private wakeAfter(delayMs: number): void {
    if (this.wakeTimer !== undefined) {
      return;
    }
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private writeDryRunRequest(batch: Batch): void {
    batch.attempts = 1;
    this.callbacks.requestSent(batch);
    this.options.events.onRequestSent?.({ entries: batch.entries.length, attempt: 1, bytes: batch.bytes, inFlight: 0 });
    const output = this.options.output;
    // The line goes out in pieces, so that the body is never copied into a buffer of its own.
    let accepted = output.write(this.dryRunLineStart);
    writeBatchBody(batch.personKey, batch.entries, (piece) => {
      accepted = output.write(piece) && accepted;
    });
    accepted = output.write(DRY_RUN_LINE_END) && accepted;
    // Requests are written in the order their batches close even when the output is full, so the
    // lines do not depend on how fast the reader of a pipe is. The run stops taking records instead.
    if (!accepted && !this.outputBlocked) {
      this.outputBlocked = true;
      output.once("drain", () => {
        this.outputBlocked = false;
        this.callbacks.settled();
      });
    }
    this.callbacks.delivered(batch);
    this.finishLane(batch.lane);
  }

  /** Sends one request; `isProbe` marks the test request of an outage. */
  private async attempt(batch: Batch, isProbe: boolean): Promise<void> {
    const client = this.client as KoalaClient;
    const startedAtMs = Date.now();
    batch.attempts += 1;
    if (batch.firstAttemptAtMs === 0) {
      batch.firstAttemptAtMs = startedAtMs;
    }
    this.inFlight += 1;
    this.callbacks.requestSent(batch);
    this.options.events.onRequestSent?.({
      entries: batch.entries.length,
      attempt: batch.attempts,
      bytes: batch.bytes,
      inFlight: this.inFlight,
    });

    const result = await client.postBatch(buildBatchBody(batch.personKey, batch.entries), this.requestAbort.signal);
    await this.handleResult(batch, result, isProbe, startedAtMs);
    this.inFlight -= 1;
    this.pump();
  }

  private async handleResult(batch: Batch, result: AttemptResult, isProbe: boolean, startedAtMs: number): Promise<void> {
    const { outcome } = result;
    if (outcome.kind === "network-error" && outcome.code === ABORTED_CODE) {
      // Stopped: the entries stay undelivered and unfinished in the checkpoint, so a resume sends them.
      return;
    }
    let verdict = classifyOutcome(outcome, this.outcomeContext(batch));
    if (outcome.kind === "response") {
      this.answeredBefore = true;
    }
    let outageFailure = isOutageFailure(outcome);
    let koalaUp = outcome.kind === "response" && !outageFailure;
    let authFailed = false;
    if (outageFailure && this.needsHealthCheck(batch, outcome)) {
      const health = await (this.health as KoalaHealth).check(startedAtMs);
      if (this.halted) {
        // Stopped meanwhile: the entries stay unfinished in the checkpoint, as for an aborted request.
        return;
      }
      koalaUp = health === "up";
      authFailed = health === "down";
      if (koalaUp) {
        // Koala works, so the failure is about these entries, as outside an outage.
        outageFailure = false;
        verdict = this.verdictOnEntries(batch, outcome, verdict);
      }
    }
    if (outageFailure) {
      this.outageTracker.noteFailure(batch.lane, outcome, Date.now(), authFailed);
      this.armOutageTimer();
      this.closeGateForOutage(isProbe);
    } else if (koalaUp) {
      this.outageTracker.noteResponse();
      this.outageGate.open();
      this.health?.noteUp(Date.now());
    }
    if (verdict.action === "fatal" && verdict.confirmWithProbe) {
      verdict = await this.confirmFatal(batch, verdict.reason, outcome.kind === "response" ? outcome.status : undefined);
    }
    if (outageFailure && verdict.action === "give-up" && this.outageTracker.outage !== undefined) {
      // Koala is down for everyone, so these entries are not at fault: rather than dead-letter them,
      // the batch waits for the outage to end, or for the run to stop with it unfinished for a resume.
      verdict = {
        action: "retry",
        reason: verdict.lastRetryReason ?? "network-error",
        delayMs: computeBackoffDelay(batch.attempts, this.retryLimits, this.options.random),
        pauseAllSenders: false,
      };
    }
    this.obey(batch, verdict, result, isProbe, outageFailure);
  }

  /**
   * Returns whether a failure needs GET /auth to tell whether Koala is down. A 500 does, because
   * entries that break Koala cause it as well as an outage. So does the second failure in a row of
   * the only person whose requests fail, which alone cannot start an outage.
   */
  private needsHealthCheck(batch: Batch, outcome: AttemptResult["outcome"]): boolean {
    if (this.health === undefined) {
      return false;
    }
    return mayFailOnEntries(outcome) || this.outageTracker.hasOnlyFailuresOf(batch.lane);
  }

  /**
   * Decides on a failure while Koala is up. A 500 for a batch of several entries splits it, so that
   * the entries that make Koala fail are found and the others delivered. A single entry is retried,
   * at most `ENTRY_FAILURE_MAX_DELAY_MS` apart, and dead-lettered once out of attempts. Any other
   * failure keeps `verdict`.
   */
  private verdictOnEntries(batch: Batch, outcome: AttemptResult["outcome"], verdict: Verdict): Verdict {
    if (!mayFailOnEntries(outcome)) {
      return verdict;
    }
    if (batch.entries.length > 1) {
      return { action: "split" };
    }
    const context = this.outcomeContext(batch);
    const maxDelayMs = Math.min(context.limits.maxDelayMs, ENTRY_FAILURE_MAX_DELAY_MS);
    return decideRetry("server-error", outcome, { ...context, limits: { ...context.limits, maxDelayMs } });
  }

  /**
   * Holds every request once an outage has begun, the batches waiting for their own backoff
   * included, so that only test requests reach Koala. After a failed test, sets when the next goes.
   */
  private closeGateForOutage(isProbe: boolean): void {
    if (this.outageTracker.outage === undefined) {
      return;
    }
    const nowMs = Date.now();
    if (this.outageGate.isClosed) {
      if (isProbe) {
        this.outageGate.probeFailed(nowMs);
      }
      return;
    }
    this.outageGate.close(nowMs);
    this.controller.undoDecreaseSince(this.outageTracker.outage.sinceMs);
    for (const [batch, { timer }] of this.retryTimers) {
      clearTimeout(timer);
      this.retryReady.push(batch);
    }
    this.retryTimers.clear();
  }

  /** Stops the run as `unavailable` once the current outage has lasted `maxOutageMs`. */
  private armOutageTimer(): void {
    const outage = this.outageTracker.outage;
    if (outage === undefined || this.outageTimer !== undefined || this.halted) {
      return;
    }
    this.outageTimer = setTimeout(() => {
      this.outageTimer = undefined;
      if (this.halted) {
        return;
      }
      if (this.outageTracker.hasLasted(this.options.maxOutageMs, Date.now())) {
        // The batches waiting for a retry stay unfinished in the checkpoint, so a resume sends them.
        const outage = this.outageTracker.outage;
        this.failRun("unavailable", { status: outage?.lastStatus, errorCode: outage?.lastErrorCode }, outage);
      } else {
        // Koala responded since this outage began, and another one may have begun later.
        this.armOutageTimer();
      }
    }, Math.max(0, outage.sinceMs + this.options.maxOutageMs - Date.now()));
    this.outageTimer.unref();
  }

  /** Carries out `verdict`. `outageFailure` is whether the attempt failed as Koala's requests fail in an outage. */
  private obey(batch: Batch, verdict: Verdict, result: AttemptResult, isProbe: boolean, outageFailure: boolean): void {
    const status = result.outcome.kind === "response" ? result.outcome.status : undefined;
    const errorCode = result.outcome.kind === "network-error" ? result.outcome.code : undefined;
    switch (verdict.action) {
      case "delivered":
        this.controller.recordSuccess(result.latencyMs, Date.now());
        this.callbacks.delivered(batch);
        this.finishLane(batch.lane);
        return;
      case "retry":
        if (this.outageGate.isClosed && outageFailure) {
          this.holdForOutage(batch, verdict.reason, status, errorCode, isProbe);
        } else {
          this.scheduleRetry(batch, verdict.reason, verdict.delayMs, verdict.pauseAllSenders, status, errorCode);
        }
        return;
      case "split":
        this.split(batch);
        return;
      case "give-up":
        this.callbacks.deadLettered(batch, {
          reason: verdict.reason,
          lastRetryReason: verdict.lastRetryReason,
          status,
          errorCode,
          responseExcerpt: result.responseExcerpt,
          attempts: batch.attempts,
        });
        this.finishLane(batch.lane);
        return;
      case "fatal":
        this.failRun(verdict.reason, { status, errorCode });
        return;
      default:
        assertNever(verdict);
    }
  }

  private scheduleRetry(
    batch: Batch,
    reason: RetryReason,
    delayMs: number,
    pauseAllSenders: boolean,
    status: number | undefined,
    errorCode: string | undefined,
  ): void {
    const nowMs = Date.now();
    if (reason === "rate-limited" || reason === "timeout" || status === 503) {
      this.controller.recordOverload(nowMs);
    }
    if (pauseAllSenders && nowMs + delayMs > this.pausedUntilMs) {
      this.pausedUntilMs = nowMs + delayMs;
      this.options.events.onPause?.(delayMs);
    }
    this.callbacks.retried(reason);
    this.options.events.onRetry?.({
      attempt: batch.attempts,
      reason,
      delayMs,
      entries: batch.entries.length,
      batchEntries: batch.entries,
      ...(status === undefined ? {} : { status }),
      ...(errorCode === undefined ? {} : { errorCode }),
    });

    const timer = setTimeout(() => {
      this.retryTimers.delete(batch);
      this.retryReady.push(batch);
      this.pump();
    }, delayMs);
    this.retryTimers.set(batch, { atMs: nowMs + delayMs, timer });
  }

  /**
   * Holds a batch that failed during an outage until the gate opens, rather than on a backoff of its
   * own. A test request that got a 5xx or a 408 goes behind the others, and the next test is a batch
   * never sent when one is ready. So entries which make Koala fail cannot be the only tests, even
   * when every held batch contains such entries. One without a response stays first, so that a run
   * whose connections were all refused since it started still reaches the attempts that stop it as
   * unreachable.
   */
  private holdForOutage(batch: Batch, reason: RetryReason, status: number | undefined, errorCode: string | undefined, isProbe: boolean): void {
    if (isProbe && status === undefined) {
      this.retryReady.unshift(batch);
    } else {
      this.retryReady.push(batch);
    }
    if (isProbe && status !== undefined) {
      this.testFreshBatchNext = true;
    }
    this.callbacks.retried(reason);
    this.options.events.onRetry?.({
      attempt: batch.attempts,
      reason,
      delayMs: this.outageGate.waitMs(Date.now()) ?? 0,
      heldForOutage: true,
      entries: batch.entries.length,
      batchEntries: batch.entries,
      ...(status === undefined ? {} : { status }),
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }

  /** Sends each half of a rejected batch again; the lane stays busy so the halves go in order. */
  private split(batch: Batch): void {
    this.callbacks.split(batch);
    const [first, second] = splitBatch(batch);
    batch.lane.queued.unshift(second);
    this.retryReady.push(first);
  }

  /**
   * Confirms a 401, 403 or 404 with `GET /auth` before ending the run: only one probe runs at a
   * time, and every request that got such a response meanwhile shares its result.
   */
  private async confirmFatal(batch: Batch, reason: FatalReason, status: number | undefined): Promise<Verdict> {
    if (this.halted) {
      return { action: "fatal", reason, confirmWithProbe: false };
    }
    // A key that GET /auth accepted a moment ago is not probed again for every rejected request.
    const recent = this.acceptedProbe;
    if (recent !== undefined && Date.now() - recent.atMs < ACCEPTED_PROBE_REUSE_MS) {
      return decideRetry("auth-not-confirmed", recent.outcome, this.outcomeContext(batch));
    }
    const client = this.client as KoalaClient;
    this.authProbe ??= client.probeAuth(this.requestAbort.signal).finally(() => {
      this.authProbe = undefined;
    });
    const probe = await this.authProbe;
    const probeStatus = probe.outcome.kind === "response" ? probe.outcome.status : undefined;
    if (probeStatus === 401 || probeStatus === 403 || probeStatus === 404) {
      this.failRun(reason, { status, probeStatus });
      return { action: "fatal", reason, confirmWithProbe: false };
    }
    if (probe.outcome.kind === "response" && probe.outcome.status < 300) {
      this.acceptedProbe = { atMs: Date.now(), outcome: probe.outcome };
      this.health?.noteUp(Date.now());
    }
    return decideRetry("auth-not-confirmed", probe.outcome, this.outcomeContext(batch));
  }

  /** Builds what `classifyOutcome` needs to know about a batch's attempts, at the current time. */
  private outcomeContext(batch: Batch): OutcomeContext {
    const nowMs = Date.now();
    return {
      attempt: batch.attempts,
      elapsedMs: nowMs - batch.firstAttemptAtMs,
      entryCount: batch.entries.length,
      nowMs,
      limits: this.retryLimits,
      random: this.options.random,
      answeredBefore: this.answeredBefore,
    };
  }

  /** Ends the run with a fatal cause that records the last failure: its status, or its network error code. */
  private failRun(reason: FatalReason, last: { status?: number | undefined; errorCode?: string | undefined; probeStatus?: number | undefined }, outage?: OutageState): void {
    if (this.halted) {
      return;
    }
    const { status, errorCode, probeStatus } = last;
    const url = printableBatchUrl(this.options.endpoint, this.options.publicKey);
    const cause: FatalCause = {
      reason,
      ...(status === undefined ? {} : { status }),
      ...(errorCode === undefined ? {} : { errorCode }),
      ...(probeStatus === undefined ? {} : { probeStatus }),
      message: maskSecret(describeFatal(reason, url, status, outage), this.options.publicKey),
    };
    this.halt();
    this.callbacks.fatal(cause);
  }

  private finishLane(lane: PersonLane): void {
    lane.busy = false;
    this.busyLanes -= 1;
    if (lane.queued.length > 0) {
      lane.scheduled = true;
      this.readyLanes.push(lane);
    } else {
      this.releaseLane(lane);
    }
    this.callbacks.settled();
  }
}

/**
 * Describes a fatal response and what to fix. The step after the fix is left to the caller, because
 * it depends on the inputs: a resume for files, a new run for stdin and pipes.
 */
function describeFatal(reason: FatalReason, url: string, status: number | undefined, outage: OutageState | undefined): string {
  switch (reason) {
    case "unauthorized":
    case "forbidden":
      return `Koala rejected the public key (${reason}) for POST ${url}. Check the key under Koala › Settings › Install.`;
    case "not-found":
      return `POST ${url} returned 404 Not Found: the endpoint or the public key is wrong. Fix it.`;
    case "method-not-allowed":
      return `POST ${url} returned 405 Method Not Allowed: the endpoint is not Koala's API. Fix it.`;
    case "redirected":
      return `POST ${url} was redirected: the endpoint is probably wrong (http instead of https, or an old host). Fix it.`;
    case "not-implemented":
      return `POST ${url} returned 501 Not Implemented: the endpoint does not support this request. Fix it.`;
    case "http-version-not-supported":
      return `POST ${url} returned 505 HTTP Version Not Supported. Check the endpoint.`;
    case "host-not-found":
      return `The host of ${url} was not found (DNS). Check the endpoint.`;
    case "proxy-authentication-required":
      return `POST ${url} returned 407 Proxy Authentication Required: a proxy between koala-replay and Koala asks for credentials, which koala-replay does not send. Give --endpoint a URL that needs none.`;
    case "request-form-rejected":
      return `POST ${url} returned ${status ?? "an error"}: the server rejects the form of every request, not its entries, so it is probably not Koala's API. Check --endpoint.`;
    case "unreachable":
      return `Every connection to ${url} was refused since the run started: nothing answers at that endpoint. Check --endpoint.`;
    case "unavailable":
      return describeOutage(url, outage);
    case "web-page":
      return `POST ${url} returned ${status ?? "a success status"} with a web page (HTML), not an API response: the endpoint is probably a website, so its entries are not counted as delivered. Check --endpoint.`;
    default:
      return assertNever(reason);
  }
}

/** Describes an outage: how long Koala did not respond or returned only errors, how many attempts failed, and the last error. */
function describeOutage(url: string, outage: OutageState | undefined): string {
  if (outage === undefined) {
    return `Koala at ${url} stopped responding: requests failed with connection errors or 5xx responses.`;
  }
  const duration = formatDuration(Date.now() - outage.sinceMs);
  const attempts = `${formatCount(outage.failedAttempts)} ${outage.failedAttempts === 1 ? "attempt" : "attempts"}`;
  const responses = outage.failedResponses ?? 0;
  // One person's failures are an outage only once GET /auth, which carries no entries, failed too.
  const persons = outage.severalPersons ? "of several persons" : "of one person";
  const authFailed = outage.severalPersons ? "" : ", and GET /auth failed too";
  let failure = `Koala did not respond, or answered only with errors, for ${duration}: ${attempts} ${persons} failed with connection errors or 5xx responses${authFailed}`;
  if (responses === 0) {
    failure = `Koala did not respond for ${duration}: ${attempts} ${persons} failed with connection errors or timeouts${authFailed}`;
  } else if (responses === outage.failedAttempts) {
    failure = `Koala answered only with errors for ${duration}: ${attempts} ${persons} got 5xx or 408 responses${authFailed}`;
  }
  return `${failure} (last error: ${outage.lastError}, POST ${url}). The entries not delivered are kept for a resume, not dead-lettered.`;
}

/**
 * Creates an AbortController whose signal takes any number of listeners: every request in flight (up
 * to --concurrency) listens to it, and Node warns of a leak past 10 listeners.
 */
function createUnlimitedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
