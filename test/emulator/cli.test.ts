import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot, runCli } from "../helpers/run-cli.js";
import { DEFAULT_PUBLIC_KEY, EMULATOR_USAGE, EmulatorUsageError, parseEmulatorArgs, runEmulatorCli, type EmulatorCliOptions, type EmulatorCliOutput } from "./cli.js";

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-emulator-cli-"));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Collects what the runner prints, and resolves `url` once the runner printed where it listens. */
function captureOutput(): { output: EmulatorCliOutput; out: string[]; err: string[]; url: Promise<string> } {
  const out: string[] = [];
  const err: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  const output: EmulatorCliOutput = {
    out: (line) => {
      out.push(line);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match !== null) resolveUrl(match[1] ?? "");
    },
    err: (line) => err.push(line),
  };
  return { output, out, err, url };
}

function writeIdentify(): string {
  const path = join(directory, `events-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(path, `${JSON.stringify({ type: "identify", messageId: "e-1", timestamp: "2024-01-01T00:00:00Z", traits: { email: "ada@example.com" } })}\n`);
  return path;
}

describe("emulator command line", () => {
  test.each<[string[], Partial<EmulatorCliOptions>]>([
    [[], { port: 0, publicKey: DEFAULT_PUBLIC_KEY, seed: 1, faults: {}, quiet: false }],
    [["--port", "8080", "--seed", "7", "--quiet"], { port: 8080, seed: 7, quiet: true }],
    [["--public-key", "pk_local"], { publicKey: "pk_local" }],
    [["--fault", "5xx=0.1", "--fault", "429=50", "--fault", "retry-after=2"], { faults: { serverErrorRate: 0.1, rateLimitEvery: 50, retryAfterSeconds: 2 } }],
    [["--fault", "drop=0.05", "--fault", "slow=1", "--fault", "slow-ms=20"], { faults: { dropRate: 0.05, slowRate: 1, slowDelayMs: 20 } }],
    [["--fault", "status=503", "--fault", "request-id", "--fault", "echo-path"], { faults: { batchStatus: 503, requestIdInErrors: true, echoPathInErrors: true } }],
    [["--fault", "endless-error"], { faults: { endlessErrorBody: true } }],
    [["--fault", "down=503"], { faults: { downStatus: 503 } }],
    [["--fault", "rotate-key=3:pk_rotated_0123"], { faults: { rotateKey: { afterBatches: 3, newKey: "pk_rotated_0123" } } }],
    [["--fault", "rotate-key=0:pk:with:colons"], { faults: { rotateKey: { afterBatches: 0, newKey: "pk:with:colons" } } }],
  ])("parses %j", (argv, expected) => {
    expect(parseEmulatorArgs(argv)).toMatchObject(expected);
  });

  test.each([
    [["--fault", "5xx=2"], "invalid --fault 5xx=2: expected a share from 0 to 1, such as 5xx=0.1"],
    [["--fault", "5xx=0x1"], "invalid --fault 5xx=0x1: expected a share from 0 to 1, such as 5xx=0.1"],
    [["--fault", "5xx"], "invalid --fault 5xx=: expected a share from 0 to 1, such as 5xx=0.1"],
    [["--fault", "teapot=1"], 'unknown --fault "teapot": expected one of 5xx, 429, retry-after, drop, slow, slow-ms, status, down, 500-entry, endless-error, echo-path, request-id, rotate-key'],
    [["--fault", "500-entry=("], "invalid --fault 500-entry=(: expected a regular expression, such as 500-entry=^Crash"],
    [["--fault", "500-entry"], "invalid --fault 500-entry=: expected a regular expression, such as 500-entry=^Crash"],
    [["--fault", "down=42"], 'invalid --fault down "42": expected a whole number, 100 to 599'],
    [["--fault", "429=0"], 'invalid --fault 429 "0": expected a whole number, 1 or more'],
    [["--fault", "status=99"], 'invalid --fault status "99": expected a whole number, 100 to 599'],
    [["--fault", "request-id=no"], "invalid --fault request-id=no: the fault takes no value"],
    [["--fault", "rotate-key=3"], "invalid --fault rotate-key=3: expected <requests>:<new key>, such as rotate-key=100:pk_rotated_0123456789"],
    [["--fault", "rotate-key=3:"], "invalid --fault rotate-key=3:: expected <requests>:<new key>, such as rotate-key=100:pk_rotated_0123456789"],
    [["--fault", "rotate-key=3:a/b"], "invalid --fault rotate-key=3:a/b: expected <requests>:<new key>, such as rotate-key=100:pk_rotated_0123456789"],
    [["--fault", "rotate-key=x:pk_new"], 'invalid --fault rotate-key requests "x": expected a whole number, 0 or more'],
    [["--fault", "rotate-key=1:pk_same", "--public-key", "pk_same"], 'invalid --fault rotate-key: the new key is the --public-key "pk_same"; give another key'],
    [["--port", "70000"], 'invalid --port "70000": expected a whole number, 0 to 65535'],
    [["--public-key", "a/b"], 'invalid --public-key "a/b": expected a non-empty key without "/"'],
  ])("rejects %j", (argv, message) => {
    expect(() => parseEmulatorArgs(argv)).toThrow(new EmulatorUsageError(message));
  });

  test("500-entry matches event name or email", () => {
    const options = parseEmulatorArgs(["--fault", "500-entry=^Crash|poison@"]);
    const matches = options === "help" ? undefined : options.faults.serverErrorEntry;

    expect(matches?.({ event: "Crash Checkout" }, {})).toBe(true);
    expect(matches?.({ event: "Checkout" }, { email: "poison@example.com" })).toBe(true);
    expect(matches?.({ type: "identify", traits: { email: "poison@example.com" } }, {})).toBe(true);
    expect(matches?.({ event: "Checkout" }, { email: "ada@example.com" })).toBe(false);
  });

  test("unknown option is a usage error", () => {
    expect(() => parseEmulatorArgs(["--prot", "1"])).toThrow(EmulatorUsageError);
  });

  test("help fits 80 columns", () => {
    expect(parseEmulatorArgs(["--help"])).toBe("help");
    for (const line of EMULATOR_USAGE.split("\n")) {
      expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });

  test("invalid option exits 2", async () => {
    const { output, err } = captureOutput();

    expect(await runEmulatorCli(["--fault", "5xx=2"], output, Promise.resolve())).toBe(2);
    expect(err.join("\n")).toContain("error: invalid --fault 5xx=2");
  });

  test("busy port exits 1", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const { output, err } = captureOutput();

      expect(await runEmulatorCli(["--port", String(port)], output, Promise.resolve())).toBe(1);
      expect(err.join("\n")).toContain(`error: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test("serves send with the faults asked for", async () => {
    const { output, out, err, url } = captureOutput();
    let stop: (value?: unknown) => void = () => {};
    const stopped = new Promise((resolve) => {
      stop = resolve;
    });
    const running = runEmulatorCli(["--fault", "429=1", "--fault", "retry-after=0", "--seed", "2"], output, stopped);
    const endpoint = await url;

    const result = await runCli(["send", "--no-stitch", "--max-attempts", "2", "--endpoint", endpoint, "--state", join(directory, "state.json"), "--dead-letter", join(directory, "dead.jsonl"), writeIdentify()], {
      env: { KOALA_PUBLIC_KEY: DEFAULT_PUBLIC_KEY },
    });
    stop();

    expect(await running).toBe(0);
    expect(result.status).toBe(1);
    expect(out[1]).toBe(`  KOALA_PUBLIC_KEY=${DEFAULT_PUBLIC_KEY} npx koala-replay send --endpoint ${endpoint} --state trial/state.json <inputs>`);
    const root = resolve(projectRoot);
    expect(out[2]).toBe(`  (in another folder than ${root}, write npx --prefix ${root} koala-replay)`);
    expect(out.filter((line) => line.startsWith(`429 POST /web/projects/${DEFAULT_PUBLIC_KEY}/batch 1 entry `))).toHaveLength(2);
    expect(err.join("\n")).toContain("responses: 429 2");
    expect(err.join("\n")).toContain("entries accepted: 0 distinct message_ids, 0 received again");
  });

  test("rotate-key stops send as a rejected key", async () => {
    const { output, out, err, url } = captureOutput();
    let stop: (value?: unknown) => void = () => {};
    const stopped = new Promise((resolve) => {
      stop = resolve;
    });
    const running = runEmulatorCli(["--fault", "rotate-key=2:pk_rotated_0123456789"], output, stopped);
    const endpoint = await url;
    const events = join(directory, `rotate-${Math.random().toString(36).slice(2)}.jsonl`);
    const lines = [1, 2, 3, 4, 5].map((index) =>
      JSON.stringify({ type: "identify", messageId: `rotate-${index}`, timestamp: "2024-01-01T00:00:00Z", traits: { email: `person${index}@example.com` } }),
    );
    writeFileSync(events, `${lines.join("\n")}\n`);

    const result = await runCli(
      ["send", "--no-stitch", "--concurrency", "1", "--no-adaptive-concurrency", "--endpoint", endpoint, "--state", join(directory, "rotate-state.json"), events],
      { env: { KOALA_PUBLIC_KEY: DEFAULT_PUBLIC_KEY } },
    );
    stop();

    expect(await running).toBe(0);
    expect(result.status).toBe(3);
    expect(result.stderr.replace(/\s+/g, " ")).toContain("Koala rejected the public key");
    expect(out.filter((line) => line.startsWith(`200 POST /web/projects/${DEFAULT_PUBLIC_KEY}/batch`))).toHaveLength(2);
    expect(out.filter((line) => line.startsWith(`401 GET /web/projects/${DEFAULT_PUBLIC_KEY}/auth`))).toHaveLength(1);
    expect(err.join("\n")).toContain("entries accepted: 2 distinct message_ids");
  });
});

/** Writes `count` track events of 10 persons; those whose number `crash` picks are named "Crash Checkout". */
function writeCrashEvents(count: number, crash: (index: number) => boolean): string {
  const path = join(directory, `crash-${Math.random().toString(36).slice(2)}.jsonl`);
  const lines: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    lines.push(
      JSON.stringify({
        type: "track",
        event: crash(index) ? "Crash Checkout" : "Report Exported",
        messageId: `crash-${index}`,
        timestamp: "2024-05-01T10:00:00.000Z",
        userId: `user-${index % 10}`,
        context: { library: { name: "analytics-node" }, traits: { email: `user${index % 10}@example.com` } },
      }),
    );
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** Starts the runner with `argv` until `stop` is called, and waits until it listens at `endpoint`. */
async function startRunner(argv: string[]): Promise<{ err: string[]; endpoint: string; stop: () => void; running: Promise<number> }> {
  const { output, err, url } = captureOutput();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const running = runEmulatorCli(argv, output, stopped);
  return { err, endpoint: await url, stop, running };
}

describe("send against the emulator's 500 faults", () => {
  test("entries that crash Koala are dead-lettered alone", async () => {
    const { err, endpoint, stop, running } = await startRunner(["--quiet", "--fault", "500-entry=^Crash"]);
    // Every 7th event crashes Koala, so every person's batch of 10 contains one or two of them.
    const events = writeCrashEvents(100, (index) => index % 7 === 0);
    const deadLetterPath = join(directory, "crash-dead.jsonl");
    const reportPath = join(directory, "crash-report.json");

    const result = await runCli(
      ["send", "--no-stitch", "--max-attempts", "2", "--endpoint", endpoint, "--state", join(directory, "crash-state.json"), "--dead-letter", deadLetterPath, "--report", reportPath, events],
      { env: { KOALA_PUBLIC_KEY: DEFAULT_PUBLIC_KEY } },
    );
    stop();

    expect(await running).toBe(0);
    expect(result.status).toBe(1);
    const deadLetters = readFileSync(deadLetterPath, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { messageId: string; status: number });
    expect(deadLetters.map((line) => line.messageId).sort()).toEqual(Array.from({ length: 14 }, (_, index) => `crash-${(index + 1) * 7}`).sort());
    expect(deadLetters.every((line) => line.status === 500)).toBe(true);
    expect(err.join("\n")).toContain("entries accepted: 86 distinct message_ids, 0 received again");
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { delivery: { requestsSplit: number } };
    expect(report.delivery.requestsSplit).toBeGreaterThan(0);
    expect((result.stdout + result.stderr).replace(/\s+/g, " ")).toContain(`split requests ${report.delivery.requestsSplit} (their batches were split in halves`);
  });

  test("Koala down with 500 stops for a resume", async () => {
    const { err, endpoint, stop, running } = await startRunner(["--quiet", "--fault", "down=500"]);
    const events = writeCrashEvents(30, () => false);
    const deadLetterPath = join(directory, "down-dead.jsonl");

    const result = await runCli(
      ["send", "--no-stitch", "--max-attempts", "2", "--max-outage-ms", "500", "--endpoint", endpoint, "--state", join(directory, "down-state.json"), "--dead-letter", deadLetterPath, events],
      { env: { KOALA_PUBLIC_KEY: DEFAULT_PUBLIC_KEY } },
    );
    stop();

    expect(await running).toBe(0);
    expect(result.status).toBe(3);
    expect(result.stderr.replace(/\s+/g, " ")).toContain("Koala answered only with errors");
    expect(result.stderr + result.stdout).toContain("--resume");
    expect(existsSync(deadLetterPath)).toBe(false);
    expect(err.join("\n")).toContain("entries accepted: 0 distinct message_ids");
  });
});

describe("emulator runner built as npm run emulator builds it", () => {
  test("starts, serves and stops on SIGINT", async () => {
    const outDir = join(directory, "dist-emulator");
    await promisify(execFile)(process.execPath, [join(projectRoot, "node_modules/typescript/bin/tsc"), "-p", join(projectRoot, "test/emulator/tsconfig.json"), "--outDir", outDir]);
    const child = spawn(process.execPath, [join(outDir, "cli.js"), "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const endpoint = await new Promise<string>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match !== null) resolve(match[1] ?? "");
      });
    });

    const result = await runCli(["send", "--no-stitch", "--endpoint", endpoint, "--state", join(directory, "built-state.json"), writeIdentify()], { env: { KOALA_PUBLIC_KEY: DEFAULT_PUBLIC_KEY } });
    child.kill("SIGINT");

    expect(result.status).toBe(0);
    expect(await exited).toBe(0);
    expect(stdout).not.toContain("POST");
    expect(stderr).toContain("responses: 200 1");
    expect(stderr).toContain("entries accepted: 1 distinct message_ids, 0 received again");
  }, 30_000);
});
