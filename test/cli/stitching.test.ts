import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { binPath, parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

function emailsByMessageId(stdout: string): Record<string, unknown> {
  const emails: Record<string, unknown> = {};
  for (const request of parseRequests(stdout)) {
    const entries = (request.body["events"] ?? request.body["identifies"]) as Array<{ message_id: string }>;
    for (const entry of entries) {
      emails[entry.message_id] = request.body["email"];
    }
  }
  return emails;
}

describe("send with identity stitching", () => {
  test("identify in another file gives track events their email", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/identity/server-tracks.jsonl", "fixtures/identity/identify-elsewhere.jsonl"]);
    const emails = emailsByMessageId(result.stdout);

    expect(emails["api-1001"]).toBe("grace@example.com");
    expect(emails["api-1002"]).toBe("numeric@example.com");
    expect(emails["api-1003"]).toBe("hedy@example.com");
    expect(emails["api-1005"]).toBeUndefined();
    expect(unwrapSummary(result.stderr)).toMatch(/identity after stitching: .*\(4 stitched\)/);
  });

  test("stitched email is top-level only; the entry is unchanged", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/identity/server-tracks.jsonl", "fixtures/identity/identify-elsewhere.jsonl"]);
    const request = parseRequests(result.stdout).find((candidate) => JSON.stringify(candidate.body).includes("api-1001"));
    const entry = (request?.body["events"] as Array<Record<string, unknown>>)[0];

    expect(request?.body["email"]).toBe("grace@example.com");
    expect(entry).not.toHaveProperty("email");
  });

  test("--no-stitch sends only what carries an identity", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/identity/server-tracks.jsonl", "fixtures/identity/identify-elsewhere.jsonl"]);
    const emails = emailsByMessageId(result.stdout);

    expect(emails["api-1001"]).toBeUndefined();
    expect(result.stderr).toContain("stitching off");
    expect(result.stderr).toMatch(/no-identity\s+5/);
  });

  test("--identities file stitches events read from stdin", async () => {
    const tracks = readFileSync("fixtures/identity/server-tracks.jsonl", "utf8");
    const result = await runCli(["send", "--dry-run", "--identities", "fixtures/identity/users-export.csv", "-"], { stdin: tracks });
    const emails = emailsByMessageId(result.stdout);

    expect(emails["api-1001"]).toBe("grace@example.com");
    expect(emails["api-1002"]).toBe("numeric@example.com");
  });

  test("gzip --identities file stitches as its CSV does", async () => {
    const tracks = readFileSync("fixtures/identity/server-tracks.jsonl", "utf8");
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-"));
    const compressed = join(directory, "users.csv.gz");
    writeFileSync(compressed, gzipSync(readFileSync("fixtures/identity/users-export.csv")));
    const plain = await runCli(["send", "--dry-run", "--identities", "fixtures/identity/users-export.csv", "-"], { stdin: tracks });
    const result = await runCli(["send", "--dry-run", "--identities", compressed, "-"], { stdin: tracks });

    expect(result.status).toBe(0);
    expect(emailsByMessageId(result.stdout)["api-1001"]).toBe("grace@example.com");
    expect(result.stdout).toBe(plain.stdout);
  });

  test("identify calls on stdin: output says they are not used", async () => {
    const stdin = [
      JSON.stringify({ type: "identify", userId: "u-9", messageId: "i-9", timestamp: "2024-01-01T00:00:00.000Z", traits: { email: "nine@example.com" } }),
      JSON.stringify({ type: "track", event: "Opened", userId: "u-9", messageId: "t-9", timestamp: "2024-01-01T00:00:01.000Z" }),
    ].join("\n");
    const sent = await runCli(["send", "--dry-run", "--identities", "fixtures/identity/users-export.csv", "-"], { stdin });
    const inspected = await runCli(["inspect", "--identities", "fixtures/identity/users-export.csv", "-"], { stdin });

    // The first pass skips stdin, so the track event of u-9 gets no email.
    expect(emailsByMessageId(sent.stdout)["t-9"]).toBeUndefined();
    expect(unwrapSummary(sent.stderr)).toContain("Identify calls read from standard input are not used, because standard input can be read only once");
    expect(sent.stderr).not.toContain("never appear with an email in the inputs");
    expect(unwrapSummary(inspected.stdout)).toContain("Identify calls read from standard input are not used, because it can be read only once.");
  });

  test("numeric userIds beyond 2^53 are not linked", async () => {
    // JSON.parse reads both userIds as 1234567890123456800, so they would seem to be one user.
    const events = [
      '{"type":"identify","userId":1234567890123456789,"messageId":"i-1","timestamp":"2024-01-01T00:00:00Z","traits":{"email":"alice@example.com"}}',
      '{"type":"track","event":"Bought","userId":1234567890123456790,"messageId":"t-1","timestamp":"2024-01-01T00:00:00Z"}',
      '{"type":"track","event":"Bought","userId":12345,"messageId":"t-2","timestamp":"2024-01-01T00:00:00Z"}',
      '{"type":"identify","userId":"12345","messageId":"i-2","timestamp":"2024-01-01T00:00:00Z","traits":{"email":"bob@example.com"}}',
    ];
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-big-ids-"));
    writeFileSync(join(directory, "events.jsonl"), `${events.join("\n")}\n`);
    const result = await runCli(["send", "--dry-run", join(directory, "events.jsonl")]);
    const emails = emailsByMessageId(result.stdout);

    expect(emails["i-1"]).toBe("alice@example.com");
    expect(emails["t-1"]).toBeUndefined();
    expect(emails["t-2"]).toBe("bob@example.com");
    expect(unwrapSummary(result.stderr)).toContain("no-identity 1");
  });

  test("ids without an email are not counted as linked", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "include", "fixtures/identity/s3-archive-without-emails.jsonl"]);

    expect(result.stderr).toMatch(/identity\s+0 userIds and anonymousIds linked to an email/);
  });

  test("--identities with --no-stitch warns it is ignored", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--identities", "fixtures/identity/users-export.csv", "fixtures/identity/server-tracks.jsonl"]);

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain("warning: --identities fixtures/identity/users-export.csv is ignored, because --no-stitch turns identity stitching off.");
  });

  test("stdin without --identities or --no-stitch is a usage error", async () => {
    const result = await runCli(["send", "--dry-run", "-"], { stdin: "{}\n" });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--identities <file>");
    expect(result.stderr).toContain("--no-stitch");
    expect(unwrapSummary(result.stderr)).toContain('Give the events as a file argument instead of piping them in, as in "send events.jsonl" (gzip files are read as they are), so that they can be read twice. Or pass --identities <file>');
  });
});

describe("--identities file problems", () => {
  const tracks = join(projectRoot, "fixtures/identity/server-tracks.jsonl");

  test("missing file: one error line and exit 2", async () => {
    const result = await runCli(["send", "--dry-run", "--identities", "no-such-identities.csv", tracks]);

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: identities file not found: no-such-identities\.csv\n  check the path given to --identities/);
    expect(result.stderr).not.toContain("internal error");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test("directory: one error line and exit 2", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-"));
    const result = await runCli(["send", "--dry-run", "--identities", directory, tracks]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`error: --identities names a directory: ${directory}\n`);
    expect(result.stderr).not.toContain("internal error");
  });

  test("damaged gzip: one error line and exit 2", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-"));
    const file = join(directory, "users.csv.gz");
    const compressed = gzipSync("user_id,email\nu-1,ada@example.com\n");
    // Without its last bytes (the checksum and the size), the gzip stream ends early.
    writeFileSync(file, compressed.subarray(0, compressed.length - 6));
    const result = await runCli(["send", "--dry-run", "--identities", file, tracks]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toMatch(new RegExp(`^error: identities file ${file} is gzip-compressed but cannot be decompressed \\(.+\\) the file is cut short or damaged`));
    expect(result.stderr).not.toContain("internal error");
  });

  test("CSV without an email column: names the columns found", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-"));
    const file = join(directory, "ids.csv");
    writeFileSync(file, "user_id,name\nu-1,Ada\n");
    const result = await runCli(["send", "--public-key", "pk_test", "--endpoint", "http://127.0.0.1:9", "--identities", file, tracks], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`error: identities file ${file} has no email column in its header (found "user_id", "name")`);
    expect(unwrapSummary(result.stderr)).toContain("needs an email column");
    expect(result.stderr).not.toContain("internal error");
  });
});

describe("Ctrl-C during the identity first pass", () => {
  test("summary says nothing was sent", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-interrupt-"));
    const pipePath = join(directory, "users.csv");
    execFileSync("mkfifo", [pipePath]);
    const child = spawn(process.execPath, [binPath, "send", "--dry-run", "--identities", pipePath, "fixtures/identity/server-tracks.jsonl"], {
      cwd: projectRoot,
      env: { PATH: process.env["PATH"] },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));

    // Opening the pipe for writing waits until the run opens it for reading, so Ctrl-C comes while
    // the run loads the identities file. Closing the pipe then ends the read in progress.
    const pipe = await open(pipePath, "w");
    await pipe.write("user_id,email\nu-1,a@example.com\n");
    child.kill("SIGINT");
    await delay(200);
    await pipe.close();
    const status = await exited;

    expect(status).toBe(130);
    expect(stderr).toContain("Interrupted before any event was processed: nothing was sent.");
    expect(stderr).not.toContain("The inputs hold no events.");
    // No event was mapped, so the coverage rows would be all zeros.
    expect(stderr).not.toContain("identity before stitching");
    expect(stderr).not.toContain("identity after stitching");
  });
});
