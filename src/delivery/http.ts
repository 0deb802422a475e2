import { createRequire } from "node:module";
import type { Pool } from "undici";
import { maskPublicKey, maskSecret } from "../reporting/mask.js";
import type { AttemptOutcome } from "./outcome.js";
import { RESPONSE_EXCERPT_LENGTH } from "./dead-letter.js";

/**
 * Loads undici on first use. Loading it takes about 100 ms of start-up (measured with `node
 * --cpu-prof` on Node 20), which a dry run, which sends nothing, should not pay.
 */
function undici(): typeof import("undici") {
  return createRequire(import.meta.url)("undici") as typeof import("undici");
}

/** Code given to an attempt aborted by `stop()`; it is not an outcome of the API. */
export const ABORTED_CODE = "ABORTED";

/** Result of one attempt, with a short excerpt of an unsuccessful response's body. */
export interface AttemptResult {
  outcome: AttemptOutcome;
  responseExcerpt?: string;
  latencyMs: number;
}

interface ParsedEndpoint {
  origin: string;
  /** Path prefix of the endpoint without a trailing slash, usually empty. */
  basePath: string;
}

/** Parses the base URL, raising an error that names the value when it is not an http(s) URL. */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`Invalid endpoint "${endpoint}": expected an absolute URL such as https://api2.getkoala.com.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`Invalid endpoint "${endpoint}": expected an http or https URL, got protocol ${url.protocol}.`);
  }
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, "") };
}

/** Returns the `/batch` URL for printing, with the key masked or `<public-key>` when there is none. */
export function printableBatchUrl(endpoint: string, publicKey: string | undefined): string {
  const { origin, basePath } = parseEndpoint(endpoint);
  const shownKey = publicKey === undefined ? "<public-key>" : maskPublicKey(publicKey);
  // The base path of --endpoint may contain the key as well.
  return maskSecret(`${origin}${basePath}/web/projects/${shownKey}/batch`, publicKey);
}

export interface KoalaClientOptions {
  endpoint: string;
  publicKey: string;
  userAgent: string;
  connections: number;
  timeoutMs: number;
}

/** Sends `/batch` requests and `/auth` probes over one keep-alive connection pool. */
export class KoalaClient {
  private readonly pool: Pool;
  private readonly batchPath: string;
  private readonly authPath: string;

  constructor(private readonly options: KoalaClientOptions) {
    const { origin, basePath } = parseEndpoint(options.endpoint);
    this.pool = new (undici().Pool)(origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const projectPath = `${basePath}/web/projects/${encodeURIComponent(options.publicKey)}`;
    this.batchPath = `${projectPath}/batch`;
    this.authPath = `${projectPath}/auth`;
  }

  postBatch(body: Uint8Array, signal: AbortSignal): Promise<AttemptResult> {
    return this.send("POST", this.batchPath, body, signal);
  }

  probeAuth(signal: AbortSignal): Promise<AttemptResult> {
    return this.send("GET", this.authPath, undefined, signal);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Destroys open connections, for a stop that cannot wait for them. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  private async send(method: "GET" | "POST", path: string, body: Uint8Array | undefined, stopSignal: AbortSignal): Promise<AttemptResult> {
    const startedAt = performance.now();
    const deadline = new RequestDeadline(this.options.timeoutMs, stopSignal);
    try {
      const response = await this.pool.request({
        method,
        path,
        body,
        signal: deadline.signal,
        headers: { "content-type": "application/json", "user-agent": this.options.userAgent },
      });
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const responseExcerpt = ok ? undefined : await readExcerpt(response.body, this.options.publicKey);
      const webPage = ok ? await isWebPage(response.body) : false;
      const retryAfter = headerValue(response.headers["retry-after"]);
      return {
        outcome: { kind: "response", status: response.statusCode, retryAfter, ...(webPage ? { webPage } : {}) },
        ...(responseExcerpt === undefined ? {} : { responseExcerpt }),
        latencyMs: performance.now() - startedAt,
      };
    } catch (error) {
      return {
        outcome: { kind: "network-error", code: deadline.failureCode(error) },
        latencyMs: performance.now() - startedAt,
      };
    } finally {
      deadline.clear();
    }
  }
}

/**
 * Aborts one request when `stopSignal` fires or `timeoutMs` passes. undici's own headers and body
 * timeouts fire with about 1 s resolution (undici 7, fast timers), so this timer makes `timeoutMs`
 * exact. The listener on the long-lived stop signal is removed when the request ends, so nothing
 * accumulates on it over millions of requests.
 */
class RequestDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private readonly onStop = (): void => this.controller.abort();

  constructor(
    timeoutMs: number,
    private readonly stopSignal: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    if (stopSignal.aborted) {
      this.controller.abort();
    } else {
      stopSignal.addEventListener("abort", this.onStop, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  failureCode(error: unknown): string {
    if (this.stopSignal.aborted) {
      return ABORTED_CODE;
    }
    return this.timedOut ? "ETIMEDOUT" : errorCode(error);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.stopSignal.removeEventListener("abort", this.onStop);
  }
}

/**
 * Bytes of an unsuccessful response's body read for its excerpt. The rest is not read, because an
 * error page of a proxy can be large or never end. It is far more than RESPONSE_EXCERPT_LENGTH
 * characters, so the key is masked in all of the text that the excerpt is cut from.
 */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

async function readExcerpt(body: AsyncIterable<Uint8Array>, publicKey: string): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= MAX_ERROR_BODY_BYTES) {
        // Leaving the loop destroys the body, and with it the connection, which is not reused.
        break;
      }
    }
  } catch {
    // The status already decides what happens; a body cut off mid-read only loses the excerpt.
    return undefined;
  }
  const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString("utf8");
  // Masked before it is cut, because a cut through the key would leave the key's first part unmasked.
  return maskSecret(text, publicKey).slice(0, RESPONSE_EXCERPT_LENGTH);
}

/**
 * Reads a success body (up to 64 KiB) and returns whether it is an HTML page. The content type is
 * not enough, because some frameworks label an empty success response text/html.
 */
async function isWebPage(body: AsyncIterable<Uint8Array>): Promise<boolean> {
  let start = "";
  let length = 0;
  try {
    for await (const chunk of body) {
      if (start.length < WEB_PAGE_PROBE_LENGTH) start += Buffer.from(chunk).toString("latin1", 0, WEB_PAGE_PROBE_LENGTH);
      length += chunk.length;
      // Leaving the loop destroys the body and its connection, which only a huge body costs.
      if (length >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut off mid-read is taken for no page, so the status alone decides what happens.
  }
  return /^\s*<(?:!doctype\s+html|html[\s>])/i.test(start);
}

/** Bytes of a success body that `isWebPage` looks at. */
const WEB_PAGE_PROBE_LENGTH = 64;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Finds the Node or undici error code, which undici sometimes puts on the error's cause. */
export function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.name : "UNKNOWN";
}

/** Result of `checkPublicKey`. `message` names the request, with the key masked, and what went wrong, but no next step. */
export type KeyCheckResult =
  | { ok: true; status: number }
  | { ok: false; status?: number; errorCode?: string; message: string; webPage?: boolean };

/**
 * Checks a public key with `GET <endpoint>/web/projects/<key>/auth`, the request Segment's Koala
 * destination uses to test a key: a 2xx status means the key is valid.
 */
export async function checkPublicKey(endpoint: string, key: string, userAgent: string, timeoutMs = 10_000): Promise<KeyCheckResult> {
  const { origin, basePath } = parseEndpoint(endpoint);
  const url = `${origin}${basePath}/web/projects/${encodeURIComponent(key)}/auth`;
  const shownUrl = maskSecret(`${origin}${basePath}/web/projects/${maskPublicKey(key)}/auth`, key);
  try {
    const response = await undici().request(url, {
      method: "GET",
      headers: { "user-agent": userAgent },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    if (ok && (await isWebPage(response.body))) {
      return { ok: false, status: response.statusCode, webPage: true, message: `GET ${shownUrl} returned ${response.statusCode} with a web page (HTML)` };
    }
    if (ok) {
      return { ok: true, status: response.statusCode };
    }
    await response.body.dump();
    return {
      ok: false,
      status: response.statusCode,
      message: `GET ${shownUrl} returned ${response.statusCode}`,
    };
  } catch (error) {
    const code = errorCode(error);
    return {
      ok: false,
      errorCode: code,
      message: maskSecret(`GET ${shownUrl} failed (${code})`, key),
    };
  }
}
