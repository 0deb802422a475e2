import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Faults injected into responses to `/batch`, all driven by one seeded random generator. */
export interface EmulatorFaults {
  /** Fraction of requests that get a 500, 502, 503 or 504. */
  serverErrorRate?: number;
  /** Every Nth request gets a 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitEvery?: number;
  retryAfterSeconds?: number;
  /** Fraction of requests whose socket is destroyed before any response. */
  dropRate?: number;
  /** Fraction of requests whose response is delayed by `slowDelayMs`. */
  slowRate?: number;
  slowDelayMs?: number;
  /** Entries for which the whole request gets a 400, like a real rejection. */
  rejectEntry?: (entry: Record<string, unknown>) => boolean;
  /**
   * Entries for which the whole request gets a 500 every time, as entries that crash the server would.
   * `person` contains the request's top-level fields. GET /auth still succeeds, because Koala is up.
   */
  serverErrorEntry?: (entry: Record<string, unknown>, person: AcceptedEntry["person"]) => boolean;
  /** Puts the request path, which contains the key, in every error body, as some servers do. */
  echoPathInErrors?: boolean;
  /** Puts a request id of its own in every error body, as many APIs do, so that no two error bodies are alike. */
  requestIdInErrors?: boolean;
  /** Responds to every `/batch` with a 500 whose body streams without end, like a broken proxy's error page. */
  endlessErrorBody?: boolean;
  /** Status of every `/batch` response in place of Koala's, as a proxy or another server in front of it would return. */
  batchStatus?: number;
  /** Status of every response, `GET /auth` included, as Koala returns while it is down. Set and delete it during a run. */
  downStatus?: number;
  /**
   * Replaces the accepted key with `newKey` once `afterBatches` requests to `/batch` got a response,
   * as when someone regenerates the project's key during a run: the old key gets 401 from then on.
   */
  rotateKey?: { afterBatches: number; newKey: string };
}

export interface EmulatorOptions {
  /** The only key accepted; others get 401. */
  publicKey: string;
  seed?: number;
  faults?: EmulatorFaults;
  /** Port on 127.0.0.1 to listen on; 0, the default, takes a free one. */
  port?: number;
  /**
   * Whether `requests` keeps every request with its body (the default). A long run from the command
   * line turns it off, so that memory grows only with the entries accepted.
   */
  keepRequests?: boolean;
  /** Called once each request gets its response or is dropped, with its log. */
  onResponse?: (request: EmulatorRequest) => void;
}

/** An entry Koala recorded, with the person of its request. */
export interface AcceptedEntry {
  kind: "events" | "identifies";
  person: { profile_id?: string; email?: string; traits?: unknown; ip?: string };
  entry: Record<string, unknown>;
}

export interface EmulatorRequest {
  method: string;
  path: string;
  status: number | "dropped";
  userAgent: string | undefined;
  /** Raw body, for comparing the batches of two runs. */
  body: string;
  entryCount: number;
  /** Person the request was for: profile_id, else email. */
  person: string | undefined;
  startedAtMs: number;
  endedAtMs: number;
}

export interface EmulatorStats {
  requests: number;
  batchRequests: number;
  /** Entries received with a message_id already accepted (retries of responses lost on the way). */
  duplicateEntries: number;
  statusCounts: Record<string, number>;
  /** Largest number of `/batch` requests in progress at once for one person. */
  maxConcurrentPerPerson: number;
  maxConcurrent: number;
}

export interface KoalaEmulator {
  url: string;
  /** Accepted entries by message_id: each is recorded once, as Koala does. */
  accepted: Map<string, AcceptedEntry>;
  requests: EmulatorRequest[];
  stats: EmulatorStats;
  close(): Promise<void>;
  /**
   * Stops listening and closes every connection, as a Koala that went down, keeping what it accepted:
   * connections are refused until `listenAgain`.
   */
  stopListening(): Promise<void>;
  /** Listens again on the port of `url`, as a Koala that came back. */
  listenAgain(): Promise<void>;
}

const MAX_ENTRIES_PER_KIND = 30;

/**
 * Starts a local stand-in for Koala's collection API on 127.0.0.1 and a random port. It checks what
 * the real API checks (key, JSON body, a person, at most 30 entries of each kind, a User-Agent),
 * records entries once per message_id, and injects faults on request.
 */
export async function startKoalaEmulator(options: EmulatorOptions): Promise<KoalaEmulator> {
  const random = seededRandom(options.seed ?? 1);
  const faults = options.faults ?? {};
  const accepted = new Map<string, AcceptedEntry>();
  const requests: EmulatorRequest[] = [];
  const stats: EmulatorStats = {
    requests: 0,
    batchRequests: 0,
    duplicateEntries: 0,
    statusCounts: {},
    maxConcurrentPerPerson: 0,
    maxConcurrent: 0,
  };
  const inProgressByPerson = new Map<string, number>();
  let inProgress = 0;

  let publicKey = options.publicKey;
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      stats.requests += 1;
      const log: EmulatorRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        status: 0,
        userAgent: request.headers["user-agent"],
        body,
        entryCount: 0,
        person: undefined,
        startedAtMs: performance.now(),
        endedAtMs: 0,
      };
      if (options.keepRequests !== false) {
        requests.push(log);
      }
      void handle(request, response, body, log);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse, body: string, log: EmulatorRequest): Promise<void> {
    if (faults.rotateKey !== undefined && stats.batchRequests >= faults.rotateKey.afterBatches) {
      publicKey = faults.rotateKey.newKey;
    }
    if (faults.downStatus !== undefined) {
      answer(response, log, faults.downStatus, "Service down");
      return;
    }
    const route = matchRoute(request.method ?? "", request.url ?? "", publicKey);
    if (route.kind !== "batch") {
      answer(response, log, route.status, route.message);
      return;
    }
    stats.batchRequests += 1;
    const parsed = parseBatch(body, request);
    if (typeof parsed === "string") {
      answer(response, log, 400, parsed);
      return;
    }
    log.entryCount = parsed.entries.length;
    log.person = parsed.person.profile_id ?? parsed.person.email;
    const person = log.person ?? "";

    inProgress += 1;
    const personCount = (inProgressByPerson.get(person) ?? 0) + 1;
    inProgressByPerson.set(person, personCount);
    stats.maxConcurrentPerPerson = Math.max(stats.maxConcurrentPerPerson, personCount);
    stats.maxConcurrent = Math.max(stats.maxConcurrent, inProgress);
    try {
      await answerBatch(response, log, parsed);
    } finally {
      inProgress -= 1;
      inProgressByPerson.set(person, (inProgressByPerson.get(person) ?? 1) - 1);
    }
  }

  async function answerBatch(response: ServerResponse, log: EmulatorRequest, batch: ParsedBatch): Promise<void> {
    if (faults.endlessErrorBody === true) {
      streamEndlessError(response, log);
      return;
    }
    if (faults.batchStatus !== undefined) {
      answer(response, log, faults.batchStatus, "Rejected by the server in front of Koala");
      return;
    }
    if (faults.dropRate !== undefined && random() < faults.dropRate) {
      log.status = "dropped";
      log.endedAtMs = performance.now();
      countStatus("dropped");
      response.socket?.destroy();
      options.onResponse?.(log);
      return;
    }
    if (faults.rateLimitEvery !== undefined && stats.batchRequests % faults.rateLimitEvery === 0) {
      response.setHeader("retry-after", String(faults.retryAfterSeconds ?? 1));
      answer(response, log, 429, "Too many requests");
      return;
    }
    if (faults.serverErrorRate !== undefined && random() < faults.serverErrorRate) {
      const statuses = [500, 502, 503, 504];
      answer(response, log, statuses[Math.floor(random() * statuses.length)] ?? 500, "Internal error");
      return;
    }
    if (faults.slowRate !== undefined && random() < faults.slowRate) {
      await new Promise((resolve) => setTimeout(resolve, faults.slowDelayMs ?? 200));
    }
    if (faults.serverErrorEntry !== undefined && batch.entries.some((item) => faults.serverErrorEntry?.(item.entry, item.person))) {
      answer(response, log, 500, "Internal error");
      return;
    }
    if (faults.rejectEntry !== undefined && batch.entries.some((item) => faults.rejectEntry?.(item.entry))) {
      answer(response, log, 400, "Invalid entry");
      return;
    }
    for (const item of batch.entries) {
      const messageId = item.entry.message_id as string;
      if (accepted.has(messageId)) {
        stats.duplicateEntries += 1;
      } else {
        accepted.set(messageId, item);
      }
    }
    answer(response, log, 200, "{}");
  }

  function answer(response: ServerResponse, log: EmulatorRequest, status: number, message: string): void {
    log.status = status;
    log.endedAtMs = performance.now();
    countStatus(String(status));
    response.statusCode = status;
    response.setHeader("content-type", "application/json");
    const detail: Record<string, unknown> = { error: message };
    if (faults.echoPathInErrors === true) {
      detail["path"] = log.path;
    }
    if (faults.requestIdInErrors === true) {
      detail["request_id"] = `req-${stats.requests}`;
    }
    response.end(status === 200 ? message : JSON.stringify(detail));
    options.onResponse?.(log);
  }

  /** Writes a 500 status, then a block of 67,200 bytes of body every 10 ms until the client goes away. */
  function streamEndlessError(response: ServerResponse, log: EmulatorRequest): void {
    log.status = 500;
    log.endedAtMs = performance.now();
    countStatus("500");
    response.writeHead(500, { "content-type": "text/html" });
    options.onResponse?.(log);
    const block = "<p>Internal error</p>".repeat(3_200);
    const timer = setInterval(() => response.write(block), 10);
    response.write(block);
    response.on("close", () => clearInterval(timer));
  }

  function countStatus(status: string): void {
    stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
  }

  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    requests,
    stats,
    close: () => (server.listening ? close() : Promise.resolve()),
    stopListening: close,
    listenAgain: () => listen(port),
  };
}

type Route = { kind: "batch" } | { kind: "other"; status: number; message: string };

function matchRoute(method: string, url: string, publicKey: string): Route {
  const match = /^\/web\/projects\/([^/]+)\/(batch|auth)$/.exec(url.split("?")[0] ?? "");
  if (match === null) {
    return { kind: "other", status: 404, message: "Not found" };
  }
  if (decodeURIComponent(match[1] ?? "") !== publicKey) {
    return { kind: "other", status: 401, message: "Invalid public key" };
  }
  if (match[2] === "auth") {
    return method === "GET" ? { kind: "other", status: 200, message: "{}" } : { kind: "other", status: 405, message: "Use GET" };
  }
  return method === "POST" ? { kind: "batch" } : { kind: "other", status: 405, message: "Use POST" };
}

interface ParsedBatch {
  person: AcceptedEntry["person"];
  entries: AcceptedEntry[];
}

/** Returns the batch, or the reason for a 400. */
function parseBatch(body: string, request: IncomingMessage): ParsedBatch | string {
  if (request.headers["user-agent"] === undefined || request.headers["user-agent"] === "") {
    return "Missing User-Agent";
  }
  if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
    return "Expected content-type application/json";
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return "Malformed JSON body";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "Body is not an object";
  }
  const object = value as Record<string, unknown>;
  if (typeof object.profile_id !== "string" && typeof object.email !== "string") {
    return "profile_id or email is required";
  }
  const person: AcceptedEntry["person"] = { traits: object.traits };
  if (typeof object.profile_id === "string") person.profile_id = object.profile_id;
  if (typeof object.email === "string") person.email = object.email;
  if (typeof object.ip === "string") person.ip = object.ip;

  const entries: AcceptedEntry[] = [];
  for (const kind of ["events", "identifies"] as const) {
    const list = object[kind];
    if (list === undefined) {
      continue;
    }
    if (!Array.isArray(list) || list.length > MAX_ENTRIES_PER_KIND) {
      return `${kind} must be an array of at most ${MAX_ENTRIES_PER_KIND} entries`;
    }
    for (const entry of list) {
      if (typeof entry !== "object" || entry === null || typeof (entry as { message_id?: unknown }).message_id !== "string") {
        return `every entry of ${kind} needs a message_id`;
      }
      entries.push({ kind, person, entry: entry as Record<string, unknown> });
    }
  }
  return { person, entries };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", () => resolve(""));
  });
}

/** Mulberry32: a small seeded generator, so a failing fault pattern can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
