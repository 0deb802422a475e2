import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { legacyStatePath } from "../../src/delivery/checkpoint.js";
import { canonicalJson } from "../../src/inputs/message-id.js";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { readFixtureEvents } from "../helpers/fixture-events.js";
import { binPath, parseRequests, printedCommand, projectRoot, runCli, type CliResult } from "../helpers/run-cli.js";
import { writeTrackEvents } from "../helpers/track-events.js";
import { unwrapSummary } from "../helpers/summary-text.js";
import { segmentRequestBody } from "../helpers/segment-reference.js";

// Real sends of the built CLI to the Koala emulator on 127.0.0.1, with and without injected faults.

const KEY = "pk_test_0123456789abcdef";
const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "koala-replay-send-"));
}

/** Sorted "person JSON | entry JSON" strings, to compare what arrived with what was expected regardless of batching. */
function entryKeys(entries: Iterable<{ person: Record<string, unknown>; entry: Record<string, unknown> }>): string[] {
  return [...entries].map(({ person, entry }) => `${canonicalJson(person)} | ${JSON.stringify(entry)}`).sort();
}

function expectedEntries(files: string[]): string[] {
  const entries: Array<{ person: Record<string, unknown>; entry: Record<string, unknown> }> = [];
  const seen = new Set<string>();
  for (const file of files) {
    for (const event of readFixtureEvents(join(projectRoot, file))) {
      const body = segmentRequestBody(event, { includeBrowserEvents: true });
      if (body === undefined) {
        continue;
      }
      const { events, identifies, ...person } = body as { events?: unknown[]; identifies?: unknown[] } & Record<string, unknown>;
      const entry = ((events ?? identifies) as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
      if (!seen.has(String(entry["message_id"]))) {
        seen.add(String(entry["message_id"]));
        entries.push({ person, entry });
      }
    }
  }
  return entryKeys(entries);
}

/** Starts a server on 127.0.0.1 that returns 200, labelled text/html, with `body` to every request. */
async function startHtmlServer(body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("send to the Koala emulator", () => {
  const fixtureFiles = [
    "fixtures/archives/spec/segment-spec-complete-examples.jsonl",
    "fixtures/archives/s3/segment-logs/r9QxNCpUszLY641VRaszNv/1700611200000/1700680092417.events-archiver-480-41..5591e831-bc4c-4944-874e-6655fb78010c.gz",
    "fixtures/archives/wire/ajs-classic-track-messy.json",
    "fixtures/archives/engage/engage-audience-identify-realworld.json",
    "fixtures/archives/engage/engage-docs-examples.jsonl",
    "fixtures/archives/engage/engage-audience-entered-track.json",
    "fixtures/archives/server/http-api-track-as-delivered.json",
  ];

  test("fixture archives arrive as Segment would send them", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["send", "--no-stitch", "--browser-events", "include", "--endpoint", emulator.url, "--state", join(temporaryDirectory(), "state.json"), ...fixtureFiles], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });
    const accepted = [...emulator.accepted.values()].map(({ person, entry }) => ({ person: person as Record<string, unknown>, entry }));

    expect(result.stderr).not.toContain("internal error");
    expect(entryKeys(accepted)).toEqual(expectedEntries(fixtureFiles));
    expect(emulator.requests.every((request) => request.userAgent === `koala-replay/${version}`)).toBe(true);
    expect(result.stderr).not.toContain(KEY);
  });

  test("faults: every entry accepted exactly once", async () => {
    emulator = await startKoalaEmulator({
      publicKey: KEY,
      seed: 7,
      faults: { serverErrorRate: 0.1, rateLimitEvery: 20, retryAfterSeconds: 1, dropRate: 0.02, slowRate: 0.05, slowDelayMs: 300 },
    });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 600);
    const result = await runCli(["send", "--no-stitch", "--max-batch-size", "5", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(result.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
    expect(emulator.stats.statusCounts["429"]).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/sent\s+600\n/);
    expect(result.stderr).toMatch(/requests\s+\d+ made, retries included, \d+ accepted\n/);
    expect(result.stderr).toMatch(/retries\s+\d+/);
  }, 120_000);

  test("many requests in flight print no warning", async () => {
    // Slow responses keep a request of each of the 25 persons in flight at once.
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 300 } });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 50);
    const result = await runCli(
      ["send", "--no-stitch", "--max-batch-size", "1", "--concurrency", "32", "--no-adaptive-concurrency", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path],
      { env: { KOALA_PUBLIC_KEY: KEY } },
    );

    expect(result.status).toBe(0);
    expect(emulator.accepted.size).toBe(ids.length);
    expect(emulator.stats.maxConcurrent).toBeGreaterThan(10);
    expect(result.stderr).not.toContain("MaxListenersExceededWarning");
  }, 60_000);

  test("failed attempts are not counted as sent", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { serverErrorRate: 1 } });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 3);
    const result = await runCli(
      ["send", "--no-stitch", "--max-attempts", "2", "--max-outage-ms", "4000", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path],
      { env: { KOALA_PUBLIC_KEY: KEY } },
    );
    const requestsMade = emulator.stats.batchRequests;

    // Every request of several persons fails with a 5xx, so the run stops as Koala unavailable. Once
    // two persons failed, one test request at a time goes, after 0.25 to 0.5 s, then 0.5 to 1 s more:
    // 4 s leaves room for at least two of them.
    expect(result.status).toBe(3);
    expect(requestsMade).toBeGreaterThan(3);
    expect(unwrapSummary(result.stderr)).toContain(`koala-replay: 0 entries sent from 3 events read (${requestsMade} requests made, retries included, 0 accepted)`);
    expect(result.stderr).toMatch(/\n {2}sent\s+0\n/);
    expect(result.stderr).toMatch(new RegExp(`\\n {2}requests\\s+${requestsMade} made, retries included, 0 accepted\\n`));
    expect(result.stderr).not.toMatch(/sent\s+0 in \d+ requests/);
  }, 60_000);

  test("entries given up without a response name the network error", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { dropRate: 1 } });
    const directory = temporaryDirectory();
    // Two events of one person: the failures of several persons' requests would stop the run as an outage instead.
    const { path } = writeTrackEvents(directory, 26);
    writeFileSync(path, readFileSync(path, "utf8").split("\n").filter((_line, index) => index === 0 || index === 25).join("\n"));
    const reportPath = join(directory, "report.json");
    const result = await runCli(
      ["send", "--no-stitch", "--max-attempts", "2", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--report", reportPath, path],
      { env: { KOALA_PUBLIC_KEY: KEY } },
    );
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { failedByReason: Record<string, number> };

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/\n {25}2 {2}retries-exhausted \(connection-reset, [A-Z_]+\)\n/);
    expect(Object.keys(report.failedByReason)).toHaveLength(1);
    expect(Object.keys(report.failedByReason)[0]).toMatch(/^retries-exhausted \(connection-reset, [A-Z_]+\)$/);
  }, 60_000);

  test("wrong key stops within seconds with exit 3", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 2_000);
    const started = Date.now();
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path], {
      env: { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" },
    });

    expect(result.status).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.stderr).toContain("--resume");
    expect(result.stderr.match(/Koala rejected the public key/g)).toHaveLength(1);
    expect(result.stderr).toContain("Stopped early by the error below.");
    expect(result.stderr).not.toContain("pk_wrong_key_0000000000");
    expect(emulator.accepted.size).toBe(0);
  });

  test("wrong endpoint path: resume hint names --endpoint", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const result = await runCli(["send", "--no-stitch", "--endpoint", `${emulator.url}/v2`, "--state", join(directory, "state.json"), path], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain("after fixing it, resume with this command, correcting its --endpoint first if that was the mistake: ");
    expect(result.stderr).toContain(`--endpoint ${emulator.url}/v2 `);
  });

  test("website answering 200 stops the run", async () => {
    // A wrong --endpoint can be a website that returns 200 and a page to every request.
    const { server, url } = await startHtmlServer("<!DOCTYPE html>\n<html><head><title>Koala</title></head><body>Welcome</body></html>");
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const result = await runCli(["send", "--no-stitch", "--endpoint", url, "--state", join(directory, "state.json"), "--report", join(directory, "report.json"), path], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });
    server.close();
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { counts: { entriesSent: number } };

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain("with a web page (HTML), not an API response: the endpoint is probably a website, so its entries are not counted as delivered. Check --endpoint.");
    expect(report.counts.entriesSent).toBe(0);
    expect(result.stderr).not.toContain(KEY);
  });

  test("empty 200 labelled text/html is delivered", async () => {
    const { server, url } = await startHtmlServer("");
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const result = await runCli(["send", "--no-stitch", "--endpoint", url, "--state", join(directory, "state.json"), path], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });
    server.close();

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain("20 entries sent");
  });

  test("wrong key: resume hint leaves --endpoint alone", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path], {
      env: { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" },
    });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain("after fixing it, resume with:\n");
  });

  test("short key named like the input: resume command intact", async () => {
    // A short key is masked only as a whole path segment, as in /web/projects/<key>/batch. The
    // base name of a file such as events.jsonl is not a whole segment.
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const report = join(directory, "report.json");
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--report", report, path], {
      env: { KOALA_PUBLIC_KEY: "events" },
    });

    const written = JSON.parse(readFileSync(report, "utf8")) as { options: { inputs: string[] } };

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain("/web/projects/ev****/batch");
    expect(unwrapSummary(result.stderr)).toContain("0 entries sent from 20 events read");
    expect(result.stderr).toContain(`${path} --resume`);
    expect(written.options.inputs).toEqual([path]);
    expect(readFileSync(report, "utf8")).not.toContain("ev****.jsonl");
  });

  test("short key named like a report field: report intact", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 20);
    const report = join(directory, "report.json");
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--report", report, path], {
      env: { KOALA_PUBLIC_KEY: "invalid" },
    });
    const text = readFileSync(report, "utf8");
    const written = JSON.parse(text) as { counts: Record<string, unknown> };

    expect(result.status).toBe(3);
    expect(written.counts).toHaveProperty("invalid", 0);
    expect(text).not.toContain('"in****":');
  });

  test("400 on one entry dead-letters it alone, and the dead-letter file replays", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => (entry["properties"] as { index?: number } | undefined)?.index === 17 } });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 100);
    const deadLetter = join(directory, "dead.jsonl");
    const first = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--dead-letter", deadLetter, path], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(first.status).toBe(1);
    expect([...emulator.accepted.keys()].sort()).toEqual(ids.filter((id) => id !== "e2e-17").sort());
    expect(readFileSync(deadLetter, "utf8").trim().split("\n")).toHaveLength(1);
    await emulator.close();

    emulator = await startKoalaEmulator({ publicKey: KEY });
    const replay = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "replay-state.json"), deadLetter], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(replay.status).toBe(0);
    expect([...emulator.accepted.keys()]).toEqual(["e2e-17"]);
  });

  test("key echoed in another encoding stays masked", async () => {
    // A server that decodes the path, or encodes it again its own way, echoes the key in a form other than the one sent.
    const oddKey = "pk+live/KEY==0123456789";
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        const path = request.url ?? "";
        const lowerCase = path.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
        response.statusCode = 400;
        response.end(JSON.stringify({ error: "Invalid entry", path: lowerCase, decoded: decodeURIComponent(path) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const directory = temporaryDirectory();
      const { path } = writeTrackEvents(directory, 1);
      const deadLetter = join(directory, "dead.jsonl");
      const report = join(directory, "report.json");
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runCli(["send", "--verbose", "--no-stitch", "--endpoint", endpoint, "--state", join(directory, "state.json"), "--dead-letter", deadLetter, "--report", report, path], {
        env: { KOALA_PUBLIC_KEY: oddKey },
      });

      expect(result.status).toBe(1);
      expect(readFileSync(deadLetter, "utf8")).toContain("/web/projects/pk+l****/batch");
      for (const output of [result.stderr, readFileSync(deadLetter, "utf8"), readFileSync(report, "utf8")]) {
        expect(output).not.toContain("0123456789");
      }
    } finally {
      server.close();
    }
  });

  test("key cut off by the response excerpt stays masked", async () => {
    // The emulator echoes the request path, so the key starts at character 47 of the 400 response and
    // runs past the 300 characters of the excerpt kept for logs and dead letters.
    const longKey = `pk_${"k".repeat(280)}`;
    emulator = await startKoalaEmulator({ publicKey: longKey, faults: { rejectEntry: () => true, echoPathInErrors: true } });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 1);
    const deadLetter = join(directory, "dead.jsonl");
    const report = join(directory, "report.json");
    const result = await runCli(["send", "--verbose", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--dead-letter", deadLetter, "--report", report, path], {
      env: { KOALA_PUBLIC_KEY: longKey },
    });

    expect(result.status).toBe(1);
    expect(readFileSync(deadLetter, "utf8")).toContain("/web/projects/pk_k****");
    const keyStart = longKey.slice(0, 20);
    expect(result.stderr).not.toContain(keyStart);
    expect(readFileSync(deadLetter, "utf8")).not.toContain(keyStart);
    expect(readFileSync(report, "utf8")).not.toContain(keyStart);
  });
});

describe("send killed with SIGKILL, then resumed", () => {
  /** Runs the CLI and kills it with SIGKILL once the emulator has answered `afterRequests` batch requests. */
  function runAndKill(args: string[], server: KoalaEmulator, afterRequests: number): Promise<number | null> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [binPath, ...args], { env: { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY }, stdio: "ignore" });
      const watcher = setInterval(() => {
        if (server.stats.batchRequests >= afterRequests) {
          child.kill("SIGKILL");
        }
      }, 1);
      child.on("exit", (code) => {
        clearInterval(watcher);
        resolve(code);
      });
    });
  }

  test.each([1, 25, 90])("kill after %i requests, resume delivers every entry", async (afterRequests) => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 5 } });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 3_000);
    const args = ["send", "--no-stitch", "--max-batch-size", "10", "--concurrency", "4", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];

    await runAndKill(args, emulator, afterRequests);
    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resumed.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);
});

describe("send interrupted with SIGINT", () => {
  test("exits 130 with a resume command that finishes the run", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 2_000);
    const args = ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "2", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];
    const server = emulator;

    const interrupted = await interruptAfterRequests(args, server, 10, {});

    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain("resume with:");
    expect(interrupted.stderr).toContain("--resume");
    expect(emulator.accepted.size).toBeLessThan(ids.length);
    expect((JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished?: boolean }).finished).toBe(false);

    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resumed.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);

  test("second SIGINT saves the checkpoint", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 150 } });
    const directory = temporaryDirectory();
    const { path, ids } = writeTrackEvents(directory, 2_000);
    const concurrency = 2;
    const batchSize = 5;
    const requests = 6;
    const args = ["send", "--no-stitch", "--max-batch-size", String(batchSize), "--concurrency", String(concurrency), "--no-adaptive-concurrency", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];

    // The first delivery is saved at once and the next timed save comes a second later, after the
    // exit. Only a save at the exit covers the requests completed in between.
    const interrupted = await interruptAfterRequests(args, emulator, requests, {}, 2);
    const acceptedBefore = emulator.accepted.size;
    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(interrupted.code).toBe(130);
    expect(unwrapSummary(interrupted.stderr)).toContain("the requests in flight are not waited for, so a resume sends them again");
    expect(acceptedBefore).toBeGreaterThanOrEqual((requests - concurrency) * batchSize);
    expect(resumed.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
    // Only the requests in flight at the exit are sent again.
    expect(emulator.stats.duplicateEntries).toBeLessThanOrEqual(concurrency * batchSize);
  }, 120_000);

  test("after the last event was read: no 'stopped reading'", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 50 } });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 200);
    const args = ["send", "--no-stitch", "--max-batch-size", "1", "--concurrency", "1", "--no-adaptive-concurrency", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];
    const server = emulator;

    // 200 events are read at once, while each request takes 50 ms.
    const interrupted = await interruptAfterRequests(args, server, 3, { COLUMNS: "50" });
    const text = unwrapSummary(interrupted.stderr);

    expect(interrupted.code).toBe(130);
    // Below 60 columns, the summary puts each value after its label.
    expect(text).toContain("events read: 200");
    expect(text).toMatch(/interrupted after reading every event; \d+ entries were left for a resumed run/);
    expect(text).not.toContain("stopped reading");
    expect(interrupted.stderr).toContain("interrupting: finishing the requests in flight\n");
  }, 60_000);
});

describe("send --resume with a changed input", () => {
  test("exits 2 even once the first pass has started workers", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    // Over 1 MiB, so that the identity first pass starts worker threads before the checkpoint is read.
    const { path } = writeTrackEvents(directory, 4_000, { properties: () => ({ note: "x".repeat(300) }) });
    const args = ["send", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];
    const first = await runCli(args, { env: { KOALA_PUBLIC_KEY: KEY } });
    expect(first.status).toBe(0);
    appendFileSync(path, `${JSON.stringify({ type: "track", event: "Added later", messageId: "later", properties: { email: "later@example.com" } })}\n`);

    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY }, killAfterMs: 20_000 });

    expect(resumed.status).toBe(2);
    expect(unwrapSummary(resumed.stderr)).toContain("changed since the checkpoint");
  }, 60_000);
});

describe("send again without --resume", () => {
  test("finished checkpoint is replaced silently", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 50);
    const statePath = join(directory, "state.json");
    const args = ["send", "--no-stitch", "--endpoint", emulator.url, "--state", statePath, path];

    const first = await runCli(args, { env: { KOALA_PUBLIC_KEY: KEY } });
    const finished = JSON.parse(readFileSync(statePath, "utf8")) as { finished?: boolean };
    const again = await runCli(args, { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(first.status).toBe(0);
    expect(first.stderr).not.toContain("did not finish");
    expect(finished.finished).toBe(true);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toContain("did not finish");
  }, 60_000);

  test("unfinished checkpoint: usage error naming both choices", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 50);
    const env = { KOALA_PUBLIC_KEY: KEY };
    const args = ["send", "--no-stitch", "--endpoint", emulator.url, path];
    await runCli(args, { cwd: directory, env });
    const stateName = readdirSync(join(directory, ".koala-replay")).find((name) => name.endsWith(".json")) as string;
    const statePath = join(directory, ".koala-replay", stateName);
    const finished = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    const requestsBefore = emulator.stats.batchRequests;

    // As a run stopped by Ctrl-C leaves it; a state file written before the field existed has none.
    for (const state of [{ ...finished, finished: false }, { ...finished, finished: undefined }]) {
      writeFileSync(statePath, JSON.stringify(state));
      const refused = await runCli(args, { cwd: directory, env });
      const text = unwrapSummary(refused.stderr);

      expect(refused.status).toBe(2);
      expect(text).toContain(`error: the checkpoint .koala-replay/${stateName} is of an earlier run that did not finish (last saved ${String(finished["savedAt"])})`);
      expect(refused.stderr).toContain(`    ${printedCommand(directory)} send --no-stitch --endpoint ${emulator.url} ${path} --resume\n`);
      expect(refused.stderr).toContain(`    ${printedCommand(directory)} send --no-stitch --endpoint ${emulator.url} ${path} --restart\n`);
      expect(emulator.stats.batchRequests).toBe(requestsBefore);
      expect(JSON.parse(readFileSync(statePath, "utf8"))).toEqual(JSON.parse(JSON.stringify(state)));
    }
  }, 60_000);

  test("--restart replaces the unfinished checkpoint", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 50);
    const statePath = join(directory, "state.json");
    const env = { KOALA_PUBLIC_KEY: KEY };
    const args = ["send", "--no-stitch", "--endpoint", emulator.url, "--state", statePath, path];
    await runCli(args, { env });
    const finished = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    writeFileSync(statePath, JSON.stringify({ ...finished, finished: false }));
    const requestsBefore = emulator.stats.batchRequests;

    const restarted = await runCli([...args, "--restart"], { env });

    expect(restarted.status).toBe(0);
    expect(unwrapSummary(restarted.stderr)).toContain(`--restart: the checkpoint ${statePath} of an earlier run that did not finish is replaced, and every event is sent again`);
    expect(emulator.stats.batchRequests).toBeGreaterThan(requestsBefore);
    expect((JSON.parse(readFileSync(statePath, "utf8")) as { finished?: boolean }).finished).toBe(true);
  }, 60_000);

  test("dry run ignores the unfinished checkpoint", async () => {
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 5);
    const statePath = join(directory, "state.json");
    writeFileSync(statePath, JSON.stringify({ version: 1, savedAt: "2024-05-01T00:00:00.000Z", finished: false, inputs: {} }));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--state", statePath, path]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("did not finish");
  });

  test("--resume with --restart is a usage error", async () => {
    const result = await runCli(["send", "--dry-run", "--resume", "--restart", "fixtures/archives/spec"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: --resume and --restart cannot be combined");
  });
});

/**
 * Starts the emulator and sends the folder `archive` of a new directory, with `files` of track
 * events in it, from that directory with the default checkpoint. Returns the paths and the run.
 */
async function sendArchiveFolder(files: Record<string, number>): Promise<{ koala: KoalaEmulator; directory: string; archive: string; env: Record<string, string>; first: CliResult }> {
  const koala = await startKoalaEmulator({ publicKey: KEY });
  emulator = koala;
  const directory = temporaryDirectory();
  const archive = join(directory, "archive");
  mkdirSync(archive);
  for (const [name, count] of Object.entries(files)) {
    writeTrackEvents(archive, count, { name });
  }
  const env = { KOALA_PUBLIC_KEY: KEY };
  const first = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "archive"], { cwd: directory, env });
  return { koala, directory, archive, env, first };
}

describe("send --resume after a file was added to an input folder", () => {
  test("default checkpoint sends only the new file", async () => {
    const { koala, directory, archive, env, first } = await sendArchiveFolder({ "events.jsonl": 50 });
    const stateFiles = readdirSync(join(directory, ".koala-replay")).filter((name) => name.endsWith(".json"));
    writeFileSync(join(archive, "later.jsonl"), `${JSON.stringify({ type: "track", event: "Added later", messageId: "later", timestamp: "2024-05-02T10:00:00.000Z", email: "later@example.com" })}\n`);
    const requestsBefore = koala.stats.batchRequests;

    // Given as ./archive/ this time: the same folder.
    const resumed = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "./archive/", "--resume"], { cwd: directory, env });

    expect(first.status).toBe(0);
    expect(stateFiles).toHaveLength(1);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("--resume found no checkpoint");
    expect(unwrapSummary(resumed.stderr)).toContain("1 entry sent from 51 events read");
    expect(unwrapSummary(resumed.stderr)).toContain("50 of 51 events were finished by earlier runs of this checkpoint (50 were delivered or dead-lettered), so --resume skipped them.");
    expect(koala.stats.batchRequests - requestsBefore).toBe(1);
    expect(koala.accepted.has("later")).toBe(true);
    expect(readdirSync(join(directory, ".koala-replay")).filter((name) => name.endsWith(".json"))).toEqual(stateFiles);
  }, 60_000);

  test("dry run prints only what --resume would send", async () => {
    const { directory, archive, first } = await sendArchiveFolder({ "events.jsonl": 50 });
    const stateFolder = join(directory, ".koala-replay");
    const stateName = readdirSync(stateFolder).find((name) => name.endsWith(".json")) as string;
    const stateBefore = readFileSync(join(stateFolder, stateName), "utf8");
    writeFileSync(join(archive, "later.jsonl"), `${JSON.stringify({ type: "track", event: "Added later", messageId: "later", timestamp: "2024-05-02T10:00:00.000Z", email: "later@example.com" })}\n`);

    const preview = await runCli(["send", "--dry-run", "--no-stitch", "archive", "--resume"], { cwd: directory });
    const requests = parseRequests(preview.stdout);

    expect(first.status).toBe(0);
    expect(preview.status).toBe(0);
    expect(preview.stderr).not.toContain("--resume found no checkpoint");
    expect(unwrapSummary(preview.stderr)).toContain("1 entry would be sent from 51 events read");
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body["email"]).toBe("later@example.com");
    expect(readFileSync(join(stateFolder, stateName), "utf8")).toBe(stateBefore);
    expect(readdirSync(stateFolder).sort()).toEqual([stateName]);
  }, 60_000);

  test("files of a stopped folder run: usage error naming its checkpoint", async () => {
    const { koala, directory, first } = await sendArchiveFolder({ "a.jsonl": 20, "b.jsonl": 30 });
    const stateName = readdirSync(join(directory, ".koala-replay")).find((name) => name.endsWith(".json")) as string;
    const statePath = join(directory, ".koala-replay", stateName);
    const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    // As a run stopped by Ctrl-C leaves it.
    writeFileSync(statePath, JSON.stringify({ ...state, finished: false }));
    const requestsBefore = koala.stats.batchRequests;
    const env = { KOALA_PUBLIC_KEY: KEY };
    const files = ["archive/b.jsonl", "archive/a.jsonl"];

    const refused = await runCli(["send", "--no-stitch", "--endpoint", koala.url, ...files, "--resume"], { cwd: directory, env });
    const text = unwrapSummary(refused.stderr);
    const resumeCommand = `${printedCommand(directory)} send --no-stitch --endpoint ${koala.url} ${files.join(" ")} --resume --state .koala-replay/${stateName}`;

    expect(first.status).toBe(0);
    expect(refused.status).toBe(2);
    expect(text).toContain("error: --resume found no checkpoint of these inputs");
    expect(text).toContain("or other files added). Nothing was sent.");
    expect(text).toContain(`.koala-replay/${stateName}, last saved ${String(state["savedAt"])}, which read archive/a.jsonl and 1 more input`);
    expect(refused.stderr).toContain(`    ${resumeCommand}\n`);
    expect(refused.stderr).toContain(`    ${printedCommand(directory)} send --no-stitch --endpoint ${koala.url} ${files.join(" ")}\n`);
    expect(koala.stats.batchRequests).toBe(requestsBefore);
    expect(readdirSync(join(directory, ".koala-replay")).filter((name) => name.endsWith(".json"))).toEqual([stateName]);

    const dryRun = await runCli(["send", "--dry-run", "--no-stitch", ...files, "--resume"], { cwd: directory, env });
    expect(dryRun.status).toBe(2);
    expect(unwrapSummary(dryRun.stderr)).toContain("Nothing was printed.");
    expect(unwrapSummary(dryRun.stderr)).toContain("to print the requests of every event of these inputs instead, without --resume:");

    const resumed = await runCli(resumeCommand.split(" ").slice(2), { cwd: directory, env });

    expect(resumed.status).toBe(0);
    expect(unwrapSummary(resumed.stderr)).toContain("Every one of the 50 events read was finished by earlier runs of this checkpoint (50 were delivered or dead-lettered): nothing was left to send.");
    expect(koala.stats.batchRequests).toBe(requestsBefore);
  }, 60_000);

  test("dry run --resume without a checkpoint warns", async () => {
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 3);

    const preview = await runCli(["send", "--dry-run", "--no-stitch", path, "--resume"], { cwd: directory });

    expect(preview.status).toBe(0);
    expect(parseRequests(preview.stdout).length).toBeGreaterThan(0);
    expect(unwrapSummary(preview.stderr)).toContain("so the dry run prints the requests of every event.");
    expect(existsSync(join(directory, ".koala-replay"))).toBe(false);
  });

  test("removed file in the folder is named", async () => {
    const { koala, directory, archive, env, first } = await sendArchiveFolder({ "a.jsonl": 20, "b.jsonl": 30 });
    rmSync(join(archive, "b.jsonl"));

    const resumed = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "archive", "--resume"], { cwd: directory, env });
    const warnings = unwrapSummary(resumed.stderr);

    expect(first.status).toBe(0);
    expect(resumed.status).toBe(0);
    expect(warnings).toContain(`names an input that this run does not read, because it was removed or not given: ${join(realpathSync(archive), "b.jsonl")}.`);
    // The first run finished, so nothing of b.jsonl is left to send.
    expect(warnings).toContain("The runs that read it delivered or dead-lettered every event of it, so none is left to send.");
    expect(warnings).not.toContain("--resume to send them");
    expect(warnings).not.toContain("a.jsonl");
  }, 60_000);

  test("input of a stopped run: its undelivered events counted", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const server = emulator;
    const directory = temporaryDirectory();
    const { path } = writeTrackEvents(directory, 2_000);
    const other = writeTrackEvents(directory, 1, { name: "other.jsonl" }).path;
    const statePath = join(directory, "state.json");
    const args = ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "2", "--endpoint", server.url, "--state", statePath];
    const child = spawn(process.execPath, [binPath, ...args, path], { env: { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY }, stdio: "ignore" });
    const watcher = setInterval(() => {
      if (server.stats.batchRequests >= 10) {
        clearInterval(watcher);
        child.kill("SIGINT");
      }
    }, 2);
    const code = await new Promise((resolve) => child.on("exit", resolve));
    clearInterval(watcher);
    const recorded = JSON.parse(readFileSync(statePath, "utf8")).inputs[realpathSync(path)] as { notDone: number[] };
    const undelivered = recorded.notDone.length;

    const resumed = await runCli([...args, "--resume", other], { env: { KOALA_PUBLIC_KEY: KEY } });
    const warnings = unwrapSummary(resumed.stderr);

    expect(code).toBe(130);
    expect(resumed.status).toBe(0);
    expect(warnings).toContain(`names an input that this run does not read, because it was removed or not given: ${realpathSync(path)} (`);
    if (undelivered > 0) {
      expect(warnings).toContain(`${undelivered.toLocaleString("en-US")} ${undelivered === 1 ? "event of it that earlier runs read was" : "events of it that earlier runs read were"} neither delivered nor dead-lettered.`);
    }
    expect(warnings).toContain("The run that last read it stopped before its end, so it may also hold events that were never read.");
    expect(warnings).toContain("Give it again with --resume to send them.");
  }, 60_000);

  test("changed file in the folder still rejected", async () => {
    const { koala, directory, archive, env, first } = await sendArchiveFolder({ "events.jsonl": 50 });
    const path = join(archive, "events.jsonl");
    writeFileSync(join(archive, "later.jsonl"), `${JSON.stringify({ type: "track", event: "Added later", messageId: "later", email: "later@example.com" })}\n`);
    // Truncated to its first half, as an interrupted download would leave it.
    const text = readFileSync(path, "utf8");
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    const requestsBefore = koala.stats.requests;

    const resumed = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "archive", "--resume"], { cwd: directory, env });

    expect(first.status).toBe(0);
    expect(resumed.status).toBe(2);
    expect(unwrapSummary(resumed.stderr)).toContain("changed since the checkpoint");
    expect(resumed.stderr).toContain("its size changed from");
    expect(koala.stats.requests).toBe(requestsBefore);
  }, 60_000);

  test("other working folder warns and names --state", async () => {
    const { koala, directory, env, first } = await sendArchiveFolder({ "events.jsonl": 50 });
    mkdirSync(join(directory, "elsewhere"));
    const statePath = readdirSync(join(directory, ".koala-replay")).find((name) => name.endsWith(".json"));

    const elsewhere = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "../archive", "--resume"], { cwd: join(directory, "elsewhere"), env });
    const requestsBefore = koala.stats.batchRequests;
    const namedState = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "../archive", "--resume", "--state", `../.koala-replay/${statePath}`], {
      cwd: join(directory, "elsewhere"),
      env,
    });

    expect(first.status).toBe(0);
    expect(elsewhere.status).toBe(0);
    expect(unwrapSummary(elsewhere.stderr)).toContain("--resume found no checkpoint at");
    expect(unwrapSummary(elsewhere.stderr)).toContain("Otherwise give the earlier run's checkpoint with --state <path>.");
    expect(namedState.status).toBe(0);
    expect(unwrapSummary(namedState.stderr)).toContain("0 entries sent from 50 events read");
    expect(koala.stats.batchRequests - requestsBefore).toBe(0);
  }, 60_000);

  test("--state path without a checkpoint named", async () => {
    const { koala, directory, env, first } = await sendArchiveFolder({ "events.jsonl": 20 });

    const dryRun = await runCli(["send", "--dry-run", "--no-stitch", "archive", "--resume", "--state", "st/s.json"], { cwd: directory, env });
    const resumed = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "archive", "--resume", "--state", "st/s.json"], { cwd: directory, env });
    const dryRunText = unwrapSummary(dryRun.stderr);
    const resumedText = unwrapSummary(resumed.stderr);

    expect(first.status).toBe(0);
    expect(dryRun.status).toBe(0);
    expect(dryRunText).toContain("--resume found no checkpoint at st/s.json, the path given with --state, so the dry run prints the requests of every event.");
    expect(dryRunText).toContain(`a relative path is taken from the working folder, ${realpathSync(directory)}`);
    expect(dryRunText).not.toContain("The default checkpoint is kept");
    expect(dryRunText).not.toContain("This run saves its checkpoint");
    expect(resumed.status).toBe(0);
    expect(resumedText).toContain("--resume found no checkpoint at st/s.json, the path given with --state, so every event is sent");
    expect(resumedText).toContain("This run saves its checkpoint to st/s.json, so a later --resume with the same --state continues it.");
    expect(resumedText).toContain("or leave --state out if that run kept its checkpoint in the default place, .koala-replay in its working folder.");
    expect(resumedText).not.toContain("The default checkpoint is kept");
    expect(existsSync(join(directory, "st", "s.json"))).toBe(true);
  }, 60_000);

  test("state file named after the files read resumed", async () => {
    const { koala, directory, archive, env, first } = await sendArchiveFolder({ "a.jsonl": 20, "b.jsonl": 30 });
    // Renamed as an earlier version named it: a hash of the files read, in the order read.
    const folder = join(directory, ".koala-replay");
    const statePath = join(folder, readdirSync(folder).find((name) => name.endsWith(".json")) ?? "");
    const legacyPath = legacyStatePath([join(archive, "a.jsonl"), join(archive, "b.jsonl")], directory);
    renameSync(statePath, legacyPath);
    const requestsBefore = koala.stats.batchRequests;

    const resumed = await runCli(["send", "--no-stitch", "--endpoint", koala.url, "archive", "--resume"], { cwd: directory, env });

    expect(first.status).toBe(0);
    expect(legacyPath).not.toBe(statePath);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("--resume found no checkpoint");
    expect(unwrapSummary(resumed.stderr)).toContain("0 entries sent from 50 events read");
    expect(koala.stats.batchRequests - requestsBefore).toBe(0);
  }, 60_000);
});

/** Runs the CLI with `args` and sends it SIGINT once the emulator has received `requests` batch requests. */
function interruptAfterRequests(args: readonly string[], server: KoalaEmulator, requests: number, env: Record<string, string>, signals = 1): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const watcher = setInterval(() => {
      if (server.stats.batchRequests >= requests) {
        clearInterval(watcher);
        child.kill("SIGINT");
        // Two signals sent at once may arrive as one, so the next waits for the first to be handled.
        for (let signal = 1; signal < signals; signal += 1) {
          setTimeout(() => child.kill("SIGINT"), signal * 50);
        }
      }
    }, 2);
    child.on("exit", (code) => {
      clearInterval(watcher);
      resolve({ code, stderr });
    });
  });
}
