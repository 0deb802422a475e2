import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { archiveFiles, readFixtureEvents } from "../helpers/fixture-events.js";
import { binPath, parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";
import { segmentRequestBody, sortByMessageId, uniqueByMessageId } from "../helpers/segment-reference.js";
import { writeGeneratedArchive } from "../helpers/generated-archive.js";

const archives = join(projectRoot, "fixtures/archives");


describe("send --dry-run on every fixture archive", () => {
  test.each(archiveFiles(archives).map((path) => relative(projectRoot, path)))("%s matches Segment's requests", async (file) => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--max-batch-size", "1", "--browser-events", "include", file]);
    const expected = readFixtureEvents(join(projectRoot, file))
      .map((event) => segmentRequestBody(event, { includeBrowserEvents: true }))
      .filter((body) => body !== undefined);

    expect(result.stderr).not.toContain("internal error");
    expect(sortByMessageId(parseRequests(result.stdout).map((request) => request.body))).toEqual(sortByMessageId(uniqueByMessageId(expected)));
  });
});

describe("send --dry-run output", () => {
  test("each line is a POST to the batch URL", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/archives/spec"]);
    const requests = parseRequests(result.stdout);

    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("https://api2.getkoala.com/web/projects/<public-key>/batch");
    }
  });

  test("public key is masked in URL and summary", async () => {
    const key = "pk_live_0123456789abcdef";
    const result = await runCli(["send", "--dry-run", "--public-key", key, "--endpoint", "http://127.0.0.1:9", "fixtures/archives/spec"]);

    expect(result.stdout).toContain("http://127.0.0.1:9/web/projects/pk_l****/batch");
    expect(result.stdout).not.toContain(key);
    expect(result.stderr).not.toContain(key);
  });

  // The project URL, https://api2.getkoala.com/web/projects/<key>, is a likely mistake for --endpoint.
  // It would be printed as given in dry-run lines, previews and check messages.
  test.each([
    ["send", "--dry-run"],
    ["preview", "--no-stitch"],
    ["check"],
  ])("endpoint holding the key: %s", async (command, ...options) => {
    const key = "pk_live_0123456789abcdef";
    const endpoint = `http://127.0.0.1:9/web/projects/${key}`;
    const inputs = command === "check" ? [] : ["fixtures/archives/spec"];

    const result = await runCli([command, ...options, "--public-key", key, "--endpoint", endpoint, ...inputs]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('error: invalid --endpoint "http://127.0.0.1:9/web/projects/pk_l****": expected the base URL');
    expect(result.stdout).not.toContain(key);
    expect(result.stderr).not.toContain(key);
  });

  // A base path is allowed, so the key in it is not an error, but it is never printed either.
  test.each([
    ["send", "--dry-run", "--browser-events", "include"],
    ["preview", "--no-stitch"],
  ])("base path holding the key: %s", async (command, ...options) => {
    const key = "pk_live_0123456789abcdef";
    const result = await runCli([command, ...options, "--public-key", key, "--endpoint", `http://127.0.0.1:9/${key}`, "fixtures/archives/spec"]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("http://127.0.0.1:9/pk_l****/web/projects/pk_l****/batch");
    expect(result.stdout).not.toContain(key);
    expect(result.stderr).not.toContain(key);
  });

  test("stdin is read when the input is -", async () => {
    const line = JSON.stringify({
      type: "identify",
      messageId: "m-1",
      timestamp: "2024-01-01T00:00:00.000Z",
      traits: { email: "ada@example.com" },
    });
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${line}\n` });

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["ada@example.com"]);
    expect(result.status).toBe(0);
  });
});

describe("send summary", () => {
  test("S3 archive under defaults names the browser-events option", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/archives/s3"]);
    const summary = result.stderr.slice(result.stderr.indexOf("koala-replay:"));
    // The headline and the hint, up to the blank line before the rows.
    const firstLines = unwrapSummary(summary.slice(0, summary.indexOf("\n\n")));

    expect(result.stdout).toBe("");
    expect(firstLines).toContain("Nothing would be sent");
    expect(firstLines).toContain("--browser-events include");
    expect(result.status).toBe(0);
  });

  test("before:<date> hint names that policy", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "before:2020-01-01", "fixtures/archives/s3"]);
    const summary = result.stderr.slice(result.stderr.indexOf("koala-replay:"));
    const firstLines = unwrapSummary(summary.slice(0, summary.indexOf("\n\n")));

    expect(firstLines).toContain("dated on or after 2020-01-01 (or without a valid timestamp), which --browser-events before:2020-01-01 leaves out");
    expect(firstLines).toContain("later than 2020-01-01");
    expect(firstLines).not.toContain("--browser-events skip");
    expect(firstLines).not.toContain("use --browser-events before:");
  });

  test("before:<time> without a zone is UTC in any time zone", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-before-utc-"));
    const event = (messageId: string, timestamp: string): string =>
      JSON.stringify({ type: "track", event: "Signed Up", messageId, timestamp, email: "ada@example.com", context: { library: { name: "analytics.js" } } });
    // 02:00 UTC is before the 03:00 UTC cutoff, and 05:00 UTC after it. Read in New York time
    // (UTC-5), the cutoff would be 08:00 UTC and keep both.
    writeFileSync(join(directory, "events.jsonl"), `${event("early", "2024-03-01T02:00:00.000Z")}\n${event("late", "2024-03-01T05:00:00.000Z")}\n`);
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "before:2024-03-01T03:00", join(directory, "events.jsonl")], {
      env: { TZ: "America/New_York" },
    });
    const sent = parseRequests(result.stdout).flatMap((request) => (request.body["events"] as Array<{ message_id: string }>).map((entry) => entry.message_id));

    expect(result.status).toBe(0);
    expect(sent).toEqual(["early"]);
    expect(result.stderr).toMatch(/browser-event\s+1/);
  });

  test("every mapping disabled: hint names it", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-disabled-"));
    const config = join(directory, "disabled.json");
    const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    writeFileSync(config, JSON.stringify({ mappings: [{ name: "Track Event", enabled: false, trigger: 'type = "track"', action: "trackEvent", mapping }] }));
    const result = await runCli(["send", "--dry-run", "--config", config, "fixtures/archives/spec"]);

    expect(unwrapSummary(result.stderr)).toContain('Every mapping of the config is disabled ("enabled": false), so none was applied: set "enabled": true on the mappings that should send them.');
    expect(result.stderr).not.toContain("Add a mapping whose trigger matches them");
  });

  test("mapping that matched nothing shows 0", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-unmatched-"));
    const config = join(directory, "pages.json");
    const mapping = { event: { "@path": "$.name" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const mappings = [
      { name: "Tracks", trigger: 'type = "track"', action: "trackEvent", mapping },
      { name: "Pages on getdbt.com", trigger: 'type = "page" and contains(properties.url, "getdbt.com")', action: "trackEvent", mapping },
      { name: "Disabled", enabled: false, trigger: 'type = "page"', action: "trackEvent", mapping },
    ];
    writeFileSync(config, JSON.stringify({ mappings }));
    const result = await runCli(["send", "--dry-run", "--config", config, "fixtures/archives/spec"]);

    expect(unwrapSummary(result.stderr)).toContain(" matched Tracks 2, Pages on getdbt.com 0 would be sent ");
  });

  test("no event read: matched is one 0", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-unmatched-"));
    writeFileSync(join(directory, "empty.jsonl"), "");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "empty.jsonl"], { cwd: directory });

    expect(unwrapSummary(result.stderr)).toContain(" events read 0 matched 0 would be sent ");
  });

  test("directory walk reports files that are not archives", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/archives/s3"]);

    expect(unwrapSummary(result.stderr)).toContain("skipped fixtures/archives/s3/segment-logs/dummy-object.txt: not an archive");
  });

  test("directory walk reads links to files", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-walk-links-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "koala-replay-walk-target-"));
    const event = { type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", context: { traits: { email: "a@example.com" } } };
    writeFileSync(join(elsewhere, "events.jsonl"), `${JSON.stringify(event)}\n`);
    mkdirSync(join(directory, "archive"));
    symlinkSync(join(elsewhere, "events.jsonl"), join(directory, "archive", "linked.jsonl"));
    symlinkSync(join(elsewhere, "missing.jsonl"), join(directory, "archive", "dangling.jsonl"));
    symlinkSync(directory, join(directory, "archive", "loop"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", join(directory, "archive")]);
    const stderr = unwrapSummary(result.stderr);

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(stderr).toContain(`skipped ${join(directory, "archive", "dangling.jsonl")}: a symbolic link whose target does not exist`);
    expect(stderr).toContain(`skipped ${join(directory, "archive", "loop")}: a symbolic link to a folder, which a directory walk does not follow`);
    expect(stderr).not.toContain("not a regular file");
    expect(result.status).toBe(0);
  });

  test("directory walk skips the config file", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-walk-config-"));
    const event = { type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", email: "a@example.com" };
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify(event)}\n`);
    const init = await runCli(["init"], { cwd: directory });
    const walked = await runCli(["send", "--dry-run", "--no-stitch", "."], { cwd: directory });
    const named = await runCli(["send", "--dry-run", "--no-stitch", "koala-replay.config.json"], { cwd: directory });

    expect(init.status).toBe(0);
    expect(walked.status).toBe(0);
    expect(unwrapSummary(walked.stderr)).toContain("warning: skipped koala-replay.config.json: a koala-replay config file, not events");
    expect(unwrapSummary(walked.stderr)).toContain(" events read 1 matched ");
    expect(parseRequests(walked.stdout)).toHaveLength(1);
    expect(unwrapSummary(named.stderr)).toContain(" events read 1 matched ");
    expect(named.stderr).toMatch(/no-mapping-matched\s+1/);
  });

  test("S3 archive with browser events included has no identity", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "include", "fixtures/archives/s3"]);

    expect(result.stderr).toMatch(/no-identity\s+\d+/);
  });
});

describe("send usage errors", () => {
  test("missing key without --dry-run exits 2 naming both ways", async () => {
    const result = await runCli(["send", "fixtures/archives/spec"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--public-key");
    expect(result.stderr).toContain("KOALA_PUBLIC_KEY");
  });

  test("invalid --browser-events value exits 2", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "sometimes", "fixtures/archives/spec"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('invalid --browser-events value "sometimes"');
  });

  test.each(["before:2024-02-30", "before:2024-13-01", "before:March 1 2024"])("--browser-events %s exits 2 naming the date", async (policy) => {
    const result = await runCli(["send", "--dry-run", "--browser-events", policy, "fixtures/archives/spec"]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`invalid --browser-events value "${policy}": "${policy.slice("before:".length)}" is not a valid ISO-8601 date or time`);
  });

  test("missing input file exits 2 without a stack trace", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/no-such-file.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("input not found: fixtures/no-such-file.jsonl");
    expect(result.stderr).not.toContain("    at ");
  });
});

describe("dry run through a slow pipe", () => {
  /** Runs a dry run whose stdout is a pipe that the test reads only in small, delayed sips. */
  function runWithSlowReader(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "ignore"] });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 2);
      });
      child.on("error", reject);
      child.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
  }

  /** Runs a dry run whose stdout is a file, which is written at once and never pushes back. */
  function runToFile(args: readonly string[], path: string): Promise<string> {
    const descriptor = openSync(path, "w");
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ["ignore", descriptor, "ignore"] });
      child.on("error", reject);
      child.on("close", () => {
        closeSync(descriptor);
        resolve(readFileSync(path, "utf8"));
      });
    });
  }

  test("prints the same lines in the same order", async () => {
    // Five persons in an irregular order, one request per entry: while the pipe is full, each
    // person's requests queue up, and they must still come out in the order they were made.
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-pipe-"));
    const path = join(directory, "events.jsonl");
    const lines = Array.from({ length: 20_000 }, (_, index) =>
      JSON.stringify({ type: "track", event: "Viewed", messageId: `v-${index}`, timestamp: "2024-01-01T00:00:00.000Z", properties: { email: `user${(index * index + Math.floor(index / 3)) % 5}@example.com`, index } }),
    );
    writeFileSync(path, `${lines.join("\n")}\n`);
    const args = ["send", "--dry-run", "--no-stitch", "--max-batch-size", "1", path];
    const expected = await runToFile(args, `${path}.out`);

    const piped = await runWithSlowReader(args);

    expect(expected.split("\n")).toHaveLength(20_001);
    expect(piped).toBe(expected);
  });
});

describe("dry run interrupted with SIGINT", () => {
  test("says there is nothing to resume", async () => {
    const child = spawn(process.execPath, [binPath, "send", "--dry-run", "--no-stitch", "-"], { env: { PATH: process.env["PATH"] }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // stdin stays open, so the run waits for more events until the signal.
    child.stdin.write(`${JSON.stringify({ type: "identify", userId: "u-1", messageId: "d-1", timestamp: "2024-01-01T00:00:00.000Z", traits: { email: "ada@example.com" } })}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    child.kill("SIGINT");
    const status = await exited;

    expect(status).toBe(130);
    expect(unwrapSummary(stderr)).toContain("interrupting: stopping the dry run (Ctrl-C again to exit at once)");
    expect(stderr).not.toContain("requests in flight");
    expect(unwrapSummary(stderr)).toContain("nothing to resume");
    expect(stderr).not.toContain("resumed run");
    expect(stderr).not.toContain("resume with:");
    expect(stdout).toBe("");
  }, 20_000);
});

describe("dry run whose reader closes stdout", () => {
  /** Runs a dry run and closes the read end of its stdout as soon as the first requests arrive, as `| head -1` does. */
  function runClosingStdout(args: readonly string[]): Promise<{ status: number | null; stderr: string; firstChunk: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, env: { PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] });
      let firstChunk = "";
      let stderr = "";
      child.stdout.once("data", (chunk: Buffer) => {
        firstChunk = chunk.toString("utf8");
        child.stdout.destroy();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
      });
      child.on("error", reject);
      child.on("close", (status) => resolve({ status, stderr, firstChunk }));
    });
  }

  test("stops, summarises and writes the report", async () => {
    const eventCount = 100_000;
    const archive = writeGeneratedArchive(eventCount);
    const reportPath = join(dirname(archive.path), "report.json");
    try {
      const result = await runClosingStdout(["send", "--dry-run", "--no-stitch", "--report", reportPath, archive.path]);
      const report = JSON.parse(readFileSync(reportPath, "utf8")) as { exitStatus: number; counts: { eventsRead: number; requestsSent: number } };
      const written = /the reader of stdout closed the pipe after ([\d,]+) requests? reached it/.exec(unwrapSummary(result.stderr));

      expect(result.firstChunk.startsWith('{"method":"POST"')).toBe(true);
      expect(result.status).toBe(141);
      expect(written, result.stderr).not.toBeNull();
      const requestsWritten = Number(written?.[1]?.replaceAll(",", ""));
      expect(requestsWritten).toBeGreaterThan(0);
      expect(unwrapSummary(result.stderr)).toContain("so reading stopped and the counts below are partial");
      const rows = /would be sent ([\d,]+) \(in the ([\d,]+) requests? formed\) requests ([\d,]+) formed, ([\d,]+) of them written whole before stdout closed/.exec(unwrapSummary(result.stderr));
      expect(rows, result.stderr).not.toBeNull();
      expect(rows?.[2]).toBe(rows?.[3]);
      expect(rows?.[4]).toBe(written?.[1]);
      expect(report.counts.requestsSent).toBe(Number(rows?.[3]?.replaceAll(",", "")));
      expect(result.stderr).not.toContain("--resume");
      expect(report.exitStatus).toBe(141);
      // Reading stopped soon after the close, long before the end of the input.
      expect(report.counts.eventsRead).toBeLessThan(eventCount / 2);
      expect(report.counts.requestsSent).toBeGreaterThanOrEqual(requestsWritten);
    } finally {
      archive.remove();
    }
  }, 30_000);
});

describe("advice for events without identity", () => {
  const event = JSON.stringify({ type: "track", event: "A", userId: "u1", messageId: "m1", timestamp: "2024-01-01T00:00:00Z" });

  test("stdin without stitching points to --identities", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${event}\n` });

    expect(unwrapSummary(result.stderr)).toContain("run without --no-stitch and give --identities <file>");
  });

  test("a file without stitching points to stitching", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-identity-advice-"));
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${event}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(unwrapSummary(result.stderr)).toContain("Identity stitching (on unless --no-stitch) fills the email from identify calls");
  });
});
