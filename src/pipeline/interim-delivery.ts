import pLimit from "p-limit";
import { Pool } from "undici";
import type { KoalaEntry } from "../delivery/entry.js";
import type { RecordOrigin } from "../inputs/record.js";
import { maskPublicKey, maskSecret } from "../reporting/mask.js";

// TODO: interim delivery, one request per entry without retries; replaced by src/delivery when the
// batching and retrying delivery stage lands.

export interface DeliveryOptions {
  endpoint: string;
  publicKey?: string;
  dryRun: boolean;
  output: { write(text: string): unknown };
  userAgent: string;
  concurrency: number;
  onDelivered: (entry: KoalaEntry) => void;
  onFailed: (entry: KoalaEntry, reason: string, status?: number) => void;
  onRequest: () => void;
}

export interface Delivery {
  submit(origin: RecordOrigin, entries: KoalaEntry[]): Promise<void> | void;
  finish(): Promise<void>;
}

export function requestBody(entries: readonly KoalaEntry[]): string {
  const first = entries[0] as KoalaEntry;
  const events = entries.filter((entry) => entry.kind === "events").map((entry) => entry.entryJson);
  const identifies = entries.filter((entry) => entry.kind === "identifies").map((entry) => entry.entryJson);
  let body = first.personKey.slice(0, -1);
  if (events.length > 0) {
    body += `,"events":[${events.join(",")}]`;
  }
  if (identifies.length > 0) {
    body += `,"identifies":[${identifies.join(",")}]`;
  }
  return `${body}}`;
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const base = options.endpoint.replace(/\/+$/, "");
  const displayUrl = `${base}/web/projects/${options.publicKey === undefined ? "<public-key>" : maskPublicKey(options.publicKey)}/batch`;
  if (options.dryRun) {
    return {
      submit(_origin, entries) {
        for (const entry of entries) {
          options.onRequest();
          options.output.write(`{"method":"POST","url":${JSON.stringify(displayUrl)},"body":${requestBody([entry])}}\n`);
          options.onDelivered(entry);
        }
      },
      finish: async () => {},
    };
  }

  const url = new URL(base);
  const pool = new Pool(url.origin, { connections: options.concurrency, pipelining: 1 });
  const limit = pLimit(options.concurrency);
  const path = `${url.pathname.replace(/\/+$/, "")}/web/projects/${encodeURIComponent(options.publicKey ?? "")}/batch`;
  const pending = new Set<Promise<void>>();

  const send = async (entry: KoalaEntry): Promise<void> => {
    options.onRequest();
    try {
      const response = await pool.request({
        method: "POST",
        path,
        headers: { "content-type": "application/json", "user-agent": options.userAgent },
        body: requestBody([entry]),
      });
      const text = await response.body.text();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        options.onDelivered(entry);
      } else {
        options.onFailed(entry, maskSecret(text.slice(0, 200), options.publicKey), response.statusCode);
      }
    } catch (error) {
      options.onFailed(entry, maskSecret((error as Error).message, options.publicKey));
    }
  };

  return {
    async submit(_origin, entries) {
      for (const entry of entries) {
        const task = limit(() => send(entry));
        pending.add(task);
        void task.finally(() => pending.delete(task));
      }
      if (limit.pendingCount > options.concurrency * 4) {
        await Promise.race(pending);
      }
    },
    async finish() {
      await Promise.all(pending);
      await pool.close();
    },
  };
}
