import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pLimit from "p-limit";
import { Pool } from "undici";
import { compiledBenchDirectory } from "../paths.js";

/** The emulator's command-line runner, compiled beside the bench (bench/tsconfig.json includes it). */
const emulatorRunner = join(compiledBenchDirectory, "..", "test", "emulator", "cli.js");

/** A delay of the emulator's responses under which delivery is measured. */
export interface LatencyScenario {
  id: string;
  label: string;
  /** Delay the emulator adds to every response, standing in for the round trip to Koala. */
  latencyMs: number;
}

/** No added latency, where the sender's CPU limits delivery, and 20 ms, where the round trips do. */
export const LATENCY_SCENARIOS: readonly LatencyScenario[] = [
  { id: "latency-0ms", label: "local emulator, no added latency", latencyMs: 0 },
  { id: "latency-20ms", label: "local emulator, 20 ms per response", latencyMs: 20 },
];

/** A Koala emulator running in a process of its own, so that it does not take CPU from the sender. */
export interface EmulatorProcess {
  url: string;
  /** Stops the emulator and returns the number of distinct message_ids it accepted. */
  stop(): Promise<EmulatorCounts>;
}

export interface EmulatorCounts {
  acceptedEntries: number;
  /** Entries received with a message_id already accepted. */
  receivedAgain: number;
}

/**
 * Starts the emulator runner on a free port of 127.0.0.1, delaying every response by `latencyMs`
 * (0 for none), and resolves once it listens.
 */
export async function startEmulatorProcess(publicKey: string, latencyMs: number): Promise<EmulatorProcess> {
  const faults = latencyMs > 0 ? ["--fault", "slow=1", "--fault", `slow-ms=${latencyMs}`] : [];
  const child = spawn(process.execPath, [emulatorRunner, "--port", "0", "--public-key", publicKey, "--quiet", ...faults], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const url = await listeningUrl(child, () => stderr);
  return {
    url,
    async stop() {
      const closed = once(child, "close");
      child.kill("SIGTERM");
      await closed;
      return parseCounts(stderr);
    },
  };
}

/** Reads the runner's banner, `Koala emulator listening on http://127.0.0.1:<port> …`. */
async function listeningUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, "close").then(() => {
    throw new Error(`the emulator exited before it listened: ${stderr().trim()}`);
  });
  const banner = (async () => {
    for await (const line of lines) {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1] !== undefined) return match[1];
    }
    throw new Error(`the emulator printed no address: ${stderr().trim()}`);
  })();
  return Promise.race([banner, exited]);
}

/** Reads `entries accepted: N distinct message_ids, M received again` from the counts printed at exit. */
function parseCounts(stderr: string): EmulatorCounts {
  const match = /entries accepted: (\d+) distinct message_ids, (\d+) received again/.exec(stderr);
  if (match === null) {
    throw new Error(`the emulator printed no counts when it stopped: ${stderr.trim()}`);
  }
  return { acceptedEntries: Number(match[1]), receivedAgain: Number(match[2]) };
}

/**
 * Starts an emulator process, runs `send` against its URL, stops it and returns what `send`
 * returned beside the emulator's counts. The emulator is stopped when `send` throws, too.
 */
export async function withEmulatorProcess<T>(publicKey: string, latencyMs: number, send: (url: string) => Promise<T>): Promise<{ result: T; counts: EmulatorCounts }> {
  const emulator = await startEmulatorProcess(publicKey, latencyMs);
  let result: T;
  try {
    result = await send(emulator.url);
  } catch (error) {
    await emulator.stop().catch(() => undefined);
    throw error;
  }
  return { result, counts: await emulator.stop() };
}

/**
 * Posts each body to `/batch` in a request of its own, `concurrency` at a time, as Segment's
 * destination sends one event per request, and returns the seconds it took.
 */
export async function postEachBody(url: string, publicKey: string, bodies: readonly (string | Uint8Array)[], concurrency: number): Promise<number> {
  const pool = new Pool(url, { connections: concurrency });
  const limit = pLimit(concurrency);
  try {
    const startedAt = performance.now();
    await Promise.all(
      bodies.map((body) =>
        limit(async () => {
          const response = await pool.request({
            method: "POST",
            path: `/web/projects/${publicKey}/batch`,
            headers: { "content-type": "application/json", "user-agent": "koala-replay-bench/one-request-each" },
            body,
          });
          await response.body.dump();
          if (response.statusCode !== 200) throw new Error(`the emulator returned ${response.statusCode} to a one-entry request, expected 200`);
        }),
      ),
    );
    return (performance.now() - startedAt) / 1000;
  } finally {
    await pool.close();
  }
}
