import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli, runPrintedCommand, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Some proxies in front of Koala take the public key in their own path too, so --endpoint contains
// the key. The commands that koala-replay prints never show the key, so they must refer to it
// another way: by the KOALA_PUBLIC_KEY variable that the run read it from, or by the placeholder
// of --public-key. Either way, the printed command must still run.

const KEY = "pk_test_0123456789abcdef";
const WRONG_KEY = "pk_wrong_key_0000000000";

let directory: string;
let emulator: KoalaEmulator;
let relay: Server;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-key-endpoint-"));
  writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
  emulator = await startKoalaEmulator({ publicKey: KEY });
  relay = await startRelay(emulator.url);
});

afterEach(async () => {
  await new Promise((resolve) => relay.close(resolve));
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

/**
 * Starts a proxy that takes `/relay/<key>/web/projects/<key>/…`, with the same key twice, and
 * forwards the request to the emulator without its `/relay/<key>` prefix. Any other path gets 404.
 */
async function startRelay(target: string): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    const match = /^\/relay\/([^/]+)(\/web\/projects\/([^/]+)\/.*)$/.exec(incoming.url ?? "");
    if (match === null || match[1] !== match[3]) {
      outgoing.writeHead(404).end("not found");
      return;
    }
    const forwarded = request(`${target}${match[2]}`, { method: incoming.method, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function relayUrl(): string {
  return `http://127.0.0.1:${(relay.address() as AddressInfo).port}/relay`;
}

function runShell(commandLine: string, env: Record<string, string>): Promise<CliResult> {
  return runPrintedCommand(commandLine, directory, env);
}

/** Returns the resume command that a stopped run printed on a line of its own. */
function printedResume(stderr: string): string | undefined {
  return stderr
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line.includes(" send ") && line.endsWith(" --resume"));
}

describe("key inside --endpoint", () => {
  test("from KOALA_PUBLIC_KEY: resume refers to it", async () => {
    const stopped = await runCli(["send", "--no-stitch", "--endpoint", `${relayUrl()}/${WRONG_KEY}`, "--state", "state.json", "events.jsonl"], {
      cwd: directory,
      env: { KOALA_PUBLIC_KEY: WRONG_KEY },
    });
    const resume = printedResume(stopped.stderr);

    expect(stopped.status).toBe(3);
    expect(resume).toContain(`--endpoint "${relayUrl()}/\${KOALA_PUBLIC_KEY:?}"`);
    expect(resume).not.toContain("****");
    expect(stopped.stderr).not.toContain(WRONG_KEY);

    const resumed = await runShell(resume as string, { KOALA_PUBLIC_KEY: KEY });

    expect(resumed.stderr).not.toContain("error:");
    expect(resumed.status).toBe(0);
    expect(emulator.accepted.size).toBe(1);
  });

  test("from KOALA_PUBLIC_KEY: unset variable stops the shell", async () => {
    const stopped = await runCli(["send", "--no-stitch", "--endpoint", `${relayUrl()}/${WRONG_KEY}`, "--state", "state.json", "events.jsonl"], {
      cwd: directory,
      env: { KOALA_PUBLIC_KEY: WRONG_KEY },
    });
    const resume = printedResume(stopped.stderr);
    const requestsBefore = emulator.stats.requests;

    const resumed = await runShell(resume as string, {});

    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr).toContain("KOALA_PUBLIC_KEY");
    expect(emulator.stats.requests).toBe(requestsBefore);
  });

  test("from --public-key: resume has the placeholder twice", async () => {
    const stopped = await runCli(["send", "--no-stitch", "--public-key", WRONG_KEY, "--endpoint", `${relayUrl()}/${WRONG_KEY}`, "--state", "state.json", "events.jsonl"], {
      cwd: directory,
    });
    const resume = printedResume(stopped.stderr) ?? "";

    expect(stopped.status).toBe(3);
    expect(resume).toContain("--public-key '<public key>'");
    expect(resume).toContain(`--endpoint '${relayUrl()}/<public key>'`);
    expect(stopped.stderr).not.toContain(WRONG_KEY);

    const unchanged = await runShell(resume, {});

    expect(unchanged.status).toBe(2);
    expect(unwrapSummary(unchanged.stderr)).toContain("it is the placeholder in angle brackets");

    const resumed = await runShell(resume.replaceAll("<public key>", KEY), {});

    expect(resumed.stderr).not.toContain("error:");
    expect(resumed.status).toBe(0);
    expect(emulator.accepted.size).toBe(1);
  });

  test("placeholder in --endpoint is rejected", async () => {
    const result = await runCli(["send", "--no-stitch", "--endpoint", `${relayUrl()}/<public key>`, "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY, COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("it contains the placeholder <public key> of a printed command");
    expect(emulator.stats.requests).toBe(0);
  });
});
