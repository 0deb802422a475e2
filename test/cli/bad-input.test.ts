import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startChild } from "../helpers/child-runs.js";
import { binPath, parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

function identifyLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "identify", messageId, timestamp: "2024-01-01T00:00:00.000Z", traits: { email } });
}

describe("bad input is counted and the run goes on", () => {
  test("malformed line is reported with its line number", async () => {
    const input = [identifyLine("a@example.com", "m-1"), "{not json", identifyLine("b@example.com", "m-2"), ""].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(unwrapSummary(result.stderr)).toContain("-:2: invalid JSON");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("JSON value that is not an object is reported", async () => {
    const input = [identifyLine("a@example.com", "m-1"), "[1,2]", "42"].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(unwrapSummary(result.stderr)).toContain("-:2: expected a JSON object");
    expect(unwrapSummary(result.stderr)).toContain("-:3: expected a JSON object");
  });

  test("truncated gzip keeps the events before the cut", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "include", "fixtures/bad/truncated.jsonl.gz"]);

    expect(unwrapSummary(result.stderr)).toContain("truncated");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("first line that is no object loses only that line", async () => {
    const lines = ["null", identifyLine("ada@example.com", "m-1"), identifyLine("grace@example.com", "m-2")];

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${lines.join("\n")}\n` });

    // Read as CSV, every event line would be a row with quotes in an unquoted cell.
    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(unwrapSummary(result.stderr)).toContain("-:1: expected a JSON object (one event per line), found null");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("JSON line not in UTF-8 is not sent", async () => {
    const latin1 = Buffer.concat([Buffer.from('{"type":"identify","messageId":"m-1","traits":{"email":"ada@example.com","name":"Caf'), Buffer.from([0xe9]), Buffer.from('"}}\n')]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: latin1 });

    expect(result.stdout).not.toContain("\uFFFD");
    expect(parseRequests(result.stdout)).toHaveLength(0);
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(unwrapSummary(result.stderr)).toContain("-:1: The line contains bytes that are not UTF-8 text");
    expect(result.stderr).toContain("iconv -f WINDOWS-1252 -t UTF-8");
  });

  test("CSV row not in UTF-8 counts as not-utf8", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-utf8-"));
    try {
      const csv = Buffer.concat([Buffer.from("id,timestamp,email,name\nm-1,2024-01-01T00:00:00Z,ada@example.com,Caf"), Buffer.from([0xe9]), Buffer.from("\nm-2,2024-01-01T00:00:00Z,grace@example.com,Café\n")]);
      writeFileSync(join(directory, "identifies.csv"), csv);

      const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", "run.json", "identifies.csv"], { cwd: directory });
      const report = JSON.parse(readFileSync(join(directory, "run.json"), "utf8")) as { unreadableByReason: Record<string, number> };

      expect(parseRequests(result.stdout)).toHaveLength(1);
      expect(report.unreadableByReason).toEqual({ "not-utf8": 1 });
      expect(unwrapSummary(result.stderr)).toContain("identifies.csv:2: The row contains bytes that are not UTF-8 text");
      expect(result.stderr).toContain("iconv -f WINDOWS-1252 -t UTF-8");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("array element not in UTF-8 is not sent", async () => {
    const element = (name: Buffer): Buffer => Buffer.concat([Buffer.from('{"type":"identify","timestamp":"2024-01-01T00:00:00Z","messageId":"'), name, Buffer.from('","traits":{"email":"'), name, Buffer.from('@example.com"}}')]);
    const array = Buffer.concat([Buffer.from("[\n"), element(Buffer.from("ada")), Buffer.from(",\n"), element(Buffer.from([0x63, 0x61, 0x66, 0xe9])), Buffer.from("\n]\n")]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: array });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.stdout).not.toContain("\uFFFD");
    expect(unwrapSummary(result.stderr)).toContain("-:3: element 2 of the array that starts at line 1 contains bytes that are not UTF-8 text");
  });

  test("JSON document not in UTF-8 is not sent", async () => {
    const identify = (messageId: string, name: Buffer): Buffer =>
      Buffer.concat([Buffer.from(`{"type":"identify","timestamp":"2024-01-01T00:00:00Z",\n"messageId":"${messageId}","traits":{"email":"`), name, Buffer.from('@example.com"}}\n')]);
    const documents = Buffer.concat([identify("m-1", Buffer.from([0x63, 0x61, 0x66, 0xe9])), identify("m-2", Buffer.from("ada"))]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: documents });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.stdout).not.toContain("\uFFFD");
    expect(unwrapSummary(result.stderr)).toContain("-:1: The JSON document that starts here contains bytes that are not UTF-8 text");
  });

  test("UTF-16 JSON lines are one problem", async () => {
    const text = `${identifyLine("ada@example.com", "m-1")}\n${identifyLine("bob@example.com", "m-2")}\n`;
    const littleEndian = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const bigEndian = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]);

    for (const [encoding, bytes] of [["UTF-16LE", littleEndian], ["UTF-16BE", bigEndian]] as const) {
      const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: bytes });
      const stderr = unwrapSummary(result.stderr);

      expect(parseRequests(result.stdout)).toHaveLength(0);
      expect(result.stderr).toMatch(/unreadable\s+1/);
      expect(stderr).toContain(`-: is ${encoding} text (it starts with that byte order mark)`);
      expect(stderr).toContain("iconv -f UTF-16 -t UTF-8");
      expect(stderr).not.toContain("WINDOWS-1252");
    }
  });

  test("UTF-16LE CSV is still read", async () => {
    const csv = "message_id,user_id,email,timestamp\nm-1,u-1,ada@example.com,2024-01-01T00:00:00Z\n";
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, "utf16le")]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "identifies", "-"], { stdin: bytes });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.stderr).toMatch(/unreadable\s+0/);
  });

  test("batch body with Latin-1 outside its array", async () => {
    const events = [identifyLine("ada@example.com", "m-1"), identifyLine("bob@example.com", "m-2")];
    const body = Buffer.concat([Buffer.from(`{"batch":[\n${events.join(",\n")}\n],"context":{"note":"caf`), Buffer.from([0xe9]), Buffer.from('"},"writeKey":"w"}\n')]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: body });

    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.stderr).not.toContain("not UTF-8");
    expect(result.status).toBe(0);
  });

  test("U+FFFD written as UTF-8 is sent", async () => {
    const line = '{"type":"identify","timestamp":"2024-01-01T00:00:00Z","messageId":"m-1","traits":{"email":"ada@example.com","name":"Caf\uFFFD"}}\n';

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: Buffer.from(line, "utf8") });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.stdout).toContain("Caf\uFFFD");
    expect(result.stderr).toMatch(/unreadable\s+0/);
  });

  test("gzip with trailing bytes keeps every event", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-gzip-"));
    const lines = Array.from({ length: 3_000 }, (_unused, index) => identifyLine(`p${index}@example.com`, `gz-${index}`));
    const half = lines.length / 2;
    // Two members, then bytes that are not gzip, as a download with junk appended has.
    const members = [gzipSync(`${lines.slice(0, half).join("\n")}\n`), gzipSync(`${lines.slice(half).join("\n")}\n`)];
    writeFileSync(join(directory, "events.gz"), Buffer.concat([...members, Buffer.from("<html>")]));

    const result = await runCli(["send", "--dry-run", "--no-stitch", join(directory, "events.gz")]);
    rmSync(directory, { recursive: true, force: true });

    expect(parseRequests(result.stdout)).toHaveLength(lines.length);
    expect(unwrapSummary(result.stderr)).toContain("events.gz:3001: every event of the gzip data was read, but the file ends with 6 bytes after its gzip data that are not gzip data, which were not read; if the file should hold more events, download it again");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("gzip on stdin with trailing bytes says events were lost", async () => {
    const lines = Array.from({ length: 3_000 }, (_unused, index) => identifyLine(`p${index}@example.com`, `gz-${index}`));
    const stdin = Buffer.concat([gzipSync(`${lines.join("\n")}\n`), Buffer.from("<html>")]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin });

    // stdin cannot be read again, so the end of the member is lost, and the warning reports the loss.
    expect(parseRequests(result.stdout).length).toBeLessThan(lines.length);
    expect(unwrapSummary(result.stderr)).toContain("bytes that are not gzip data follow the gzip data, and the events decompressed in the same step before them, up to 16 KiB, were lost too");
    expect(result.status).toBe(1);
  });

  test("gzip with zero padding is read whole", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-gzip-"));
    const lines = Array.from({ length: 3_000 }, (_unused, index) => identifyLine(`p${index}@example.com`, `gz-${index}`));
    writeFileSync(join(directory, "events.gz"), Buffer.concat([gzipSync(`${lines.join("\n")}\n`), Buffer.alloc(512)]));

    const result = await runCli(["send", "--dry-run", "--no-stitch", join(directory, "events.gz")]);
    rmSync(directory, { recursive: true, force: true });

    expect(parseRequests(result.stdout)).toHaveLength(lines.length);
    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.status).toBe(0);
  });

  test("gzip inside gzip says to decompress once", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-gzip-"));
    const file = join(directory, "events.jsonl.gz");
    writeFileSync(file, gzipSync(gzipSync(`${identifyLine("a@example.com", "gz-1")}\n`)));

    const result = await runCli(["send", "--dry-run", "--no-stitch", file]);
    rmSync(directory, { recursive: true, force: true });
    const summary = unwrapSummary(result.stderr);

    expect(result.stdout).toBe("");
    expect(summary).toContain(`${file}: is compressed twice (its gzip data holds gzip data), so none of its events are read. Decompress it once`);
    expect(summary).not.toContain("WINDOWS-1252");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("unreadable file does not stop the other inputs", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/bad", "fixtures/archives/engage"]);

    expect(parseRequests(result.stdout).length).toBeGreaterThan(0);
    expect(result.status).toBe(1);
  });

  test("missing required field is counted as invalid with its name", async () => {
    const input = JSON.stringify({ type: "track", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", properties: { email: "a@example.com" } });
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${input}\n` });

    expect(result.stderr).toMatch(/Track Event: event: is required/);
    expect(result.status).toBe(1);
  });
});

describe("bad CSV rows are counted and the run goes on", () => {
  test("text after a closing quote loses only that row", async () => {
    const input = [
      "type,userId,messageId,timestamp,traits.email",
      "identify,u1,m-1,2024-01-01T00:00:00Z,a@example.com",
      'identify,u2,m-2,2024-01-01T00:00:00Z,"b@example.com"x',
      "identify,u3,m-3,2024-01-01T00:00:00Z,c@example.com",
      'identify,u4,m-4,2024-01-01T00:00:00Z,"d@example.com"',
      "",
    ].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    const emails = parseRequests(result.stdout).map((request) => request.body["email"]);
    expect(emails).toEqual(["a@example.com", "c@example.com", "d@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain("-:3: Quoted cell 5 continues after its closing double quote on line 3");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(unwrapSummary(result.stderr)).toContain("-:3 malformed-csv-row");
    expect(result.status).toBe(1);
  });

  test("unknown table counted once per file", async () => {
    const input = "email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\n";
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toEqual([]);
    expect(unwrapSummary(result.stderr)).toContain("-:1: This CSV is not a table koala-replay recognises");
    expect(unwrapSummary(result.stderr)).toContain("--csv-table <table>");
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(unwrapSummary(result.stderr)).toContain("-:1 unknown-csv-table");
    expect(result.status).toBe(1);
  });

  test("row over 32 MiB loses only that row", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-long-row-"));
    const path = join(directory, "identifies.csv");
    const file = openSync(path, "w");
    writeSync(file, "type,userId,messageId,timestamp,traits.email,traits.note\n");
    writeSync(file, "identify,u1,m-1,2024-01-01T00:00:00Z,a@example.com,short\n");
    writeSync(file, "identify,u2,m-2,2024-01-01T00:00:00Z,b@example.com,");
    const megabyte = Buffer.alloc(1 << 20, "y");
    for (let written = 0; written < 33; written += 1) {
      writeSync(file, megabyte);
    }
    writeSync(file, "\nidentify,u3,m-3,2024-01-01T00:00:00Z,c@example.com,short\n");
    writeSync(file, "identify,u4,m-4,2024-01-01T00:00:00Z,d@example.com,short\n");
    closeSync(file);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    const emails = parseRequests(result.stdout).map((request) => request.body["email"]);
    expect(emails).toEqual(["a@example.com", "c@example.com", "d@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:3: The row is 33 MiB long (line 3), more than the 32 MiB a row may have, so it is skipped`);
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:3 malformed-csv-row`);
    expect(result.status).toBe(1);
    rmSync(directory, { recursive: true, force: true });
  });

  test("unknown table read with --csv-type", async () => {
    const input = "email,name,timestamp,id\na@example.com,A,2024-01-01 00:00:00,m-1\n";
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-type", "identify", "-"], { stdin: input });

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["a@example.com"]);
    expect(result.status).toBe(0);
  });
});

describe("bad input found by breaking the CLI", () => {
  test("deeply nested line loses only that line", async () => {
    const deep = `${'{"a":'.repeat(200_000)}1${"}".repeat(200_000)}`;
    const input = [identifyLine("a@example.com", "m-1"), deep, identifyLine("b@example.com", "m-2")].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(unwrapSummary(result.stderr)).toContain("-:2: the event is nested too deeply");
    expect(result.status).toBe(1);
  });

  test("byte order mark before line 1 is ignored", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `\uFEFF${identifyLine("a@example.com", "m-1")}\r\n` });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.status).toBe(0);
  });

  test("byte order mark before line 1 is ignored by inspect", async () => {
    const result = await runCli(["inspect", "--json", "-"], { stdin: `\uFEFF${identifyLine("a@example.com", "m-1")}\r\n` });
    const report = JSON.parse(result.stdout) as { eventsRead: number; unreadable: number };

    expect(report.eventsRead).toBe(1);
    expect(report.unreadable).toBe(0);
    expect(result.status).toBe(0);
  });

  test("byte order mark before line 1 is ignored by preview", async () => {
    const result = await runCli(["preview", "-"], { stdin: `\uFEFF${identifyLine("a@example.com", "m-1")}\n` });

    expect(result.stderr).not.toContain("invalid JSON");
    expect(result.stdout).toContain("1 event read");
    expect(result.status).toBe(0);
  });

  test("byte order mark past line 1 lends no email", async () => {
    // The second pass reports line 2 as invalid JSON, so the first pass must not learn from it.
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-bom-"));
    const path = join(directory, "events.jsonl");
    const track = JSON.stringify({ type: "track", event: "Opened", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-bom" });
    const identify = JSON.stringify({ type: "identify", messageId: "m-2", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-bom", traits: { email: "bom@example.com" } });
    writeFileSync(path, `${track}\n\uFEFF${identify}\n`);
    const result = await runCli(["send", "--dry-run", path]);

    expect(unwrapSummary(result.stderr)).toContain(`${path}:2: invalid JSON`);
    expect(parseRequests(result.stdout)).toHaveLength(0);
    expect(result.status).toBe(1);
  });

  test("stdin named twice is a usage error", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-", "-"], { stdin: identifyLine("a@example.com", "m-1") });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("stdin (-) is given more than once");
  });
});

describe("standard input named twice", () => {
  // runCli connects stdin with a socket pair, as Node's child_process does, and bash with a pipe.
  test.each([
    ["send", "/dev/stdin"],
    ["send", "/proc/self/fd/0"],
    ["send", "/dev/fd/0"],
    ["inspect", "/dev/stdin"],
    ["preview", "/proc/self/fd/0"],
  ])("%s with - and %s is a usage error", async (command, path) => {
    const options = command === "send" ? ["--dry-run", "--no-stitch"] : ["--no-stitch"];
    const result = await runCli([command, ...options, "-", path], { stdin: identifyLine("a@example.com", "m-1") });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`error: - and ${path} both name standard input, which can be read only once`);
    expect(unwrapSummary(result.stderr)).toContain(`give either - or ${path}, not both`);
    expect(result.stdout).toBe("");
  });

  test("pipe as - and /dev/stdin is a usage error", async () => {
    const script = 'printf "%s\\n" "$1" | exec "$2" "$3" send --dry-run --no-stitch /dev/stdin -';
    const result = await runBash(script, [identifyLine("a@example.com", "m-1"), process.execPath, binPath]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: - and /dev/stdin both name standard input");
  });

  test("file on stdin and named is a usage error", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-stdin-"));
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${identifyLine("a@example.com", "m-1")}\n`);
    try {
      const result = await runBash('exec "$2" "$3" send --dry-run --no-stitch - "$1" < "$1"', [path, process.execPath, binPath]);

      expect(result.status).toBe(2);
      expect(unwrapSummary(result.stderr)).toContain(`error: - and ${path} both name standard input`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("/dev/stdin alone is read", async () => {
    const script = 'printf "%s\\n" "$1" | exec "$2" "$3" send --dry-run --no-stitch /dev/stdin';
    const result = await runBash(script, [identifyLine("a@example.com", "m-1"), process.execPath, binPath]);

    expect(result.status).toBe(0);
    expect(parseRequests(result.stdout)).toHaveLength(1);
  });
});

describe("socket as an input", () => {
  let directory: string;
  let server: Server;
  let socketPath: string;
  let eventsPath: string;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), "koala-replay-socket-"));
    socketPath = join(directory, "events.sock");
    eventsPath = join(directory, "events.jsonl");
    writeFileSync(eventsPath, `${identifyLine("a@example.com", "m-1")}\n`);
    server = createServer((connection) => connection.end());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(directory, { recursive: true, force: true });
  });

  test.each([
    ["send", ["--dry-run", "--no-stitch"]],
    ["send", ["--dry-run"]],
  ])("%s %s reports it and reads the others", async (command, options) => {
    const result = await runCli([command, ...options, socketPath, eventsPath]);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain(
      `${socketPath}: cannot be read (it is a Unix domain socket, which cannot be opened as a file; save what its server sends to a file and give that file, or pipe it in and give -)`,
    );
    expect(result.stderr).not.toContain("ENXIO");
    expect(result.stderr).not.toContain("internal error");
    expect(parseRequests(result.stdout)).toHaveLength(1);
  });

  test("inspect reports it and counts the others", async () => {
    const result = await runCli(["inspect", "--json", socketPath, eventsPath]);
    const report = JSON.parse(result.stdout) as { eventsRead: number; unreadableExamples: Array<{ input: string; message: string }> };

    expect(result.status).toBe(1);
    expect(report.eventsRead).toBe(1);
    expect(report.unreadableExamples[0]?.input).toBe(socketPath);
    expect(report.unreadableExamples[0]?.message).toContain("it is a Unix domain socket");
  });

  test("stdin socket by its path points to -", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "/dev/stdin"], { stdin: identifyLine("a@example.com", "m-1") });

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain("/dev/stdin: cannot be read (it is standard input, which is a socket here, and a socket cannot be opened by its path; give - instead of /dev/stdin to read standard input)");
  });
});

/** Returns the text of a JSON object nested `depth` levels deep under the key `a`. */
function nestedText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/**
 * Writes the lines to a JSONL file and pads the line at `workerLine` (0-based) past 1 MiB. That
 * line's chunk is then the first one over 1 MiB, so it starts the worker threads and goes to one of
 * them. A worker's stack is about four times the main thread's.
 */
function writeWorkerFile(lines: readonly string[], workerLine: number): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-deep-"));
  const path = join(directory, "events.jsonl");
  const padded = lines.map((line, index) => (index === workerLine ? line.replace(/}$/, `,"padding":"${"x".repeat(1_100_000)}"}`) : line));
  writeFileSync(path, `${padded.join("\n")}\n`);
  return path;
}

describe("events nested deeper than the main thread's stack allows", () => {
  // With the presets, the main thread's stack overflowed at about 4,100 levels and a worker's at about 16,500.
  const deepTrack = JSON.stringify({ type: "track", event: "Deep", messageId: "deep-1", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-deep" }).replace(
    /}$/,
    `,"context":{"traits":{"email":"deep@example.com"}},"properties":{"x":${nestedText(5_000)}}}`,
  );

  test("event at the depth limit is sent", async () => {
    // 1,000 levels: the event object, `properties`, then 998 objects under `x`.
    const line = JSON.stringify({ type: "track", event: "Deep", messageId: "deep-1", timestamp: "2024-01-01T00:00:00.000Z" }).replace(
      /}$/,
      `,"context":{"traits":{"email":"deep@example.com"}},"properties":{"x":${nestedText(998)}}}`,
    );
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${line}\n` });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.status).toBe(0);
  });

  test("event one level past the limit is unreadable", async () => {
    const line = JSON.stringify({ type: "track", event: "Deep", messageId: "deep-1", timestamp: "2024-01-01T00:00:00.000Z" }).replace(
      /}$/,
      `,"context":{"traits":{"email":"deep@example.com"}},"properties":{"x":${nestedText(999)}}}`,
    );
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${line}\n` });

    expect(parseRequests(result.stdout)).toHaveLength(0);
    expect(unwrapSummary(result.stderr)).toContain("-:1: the event is nested too deeply to process (more than 1,000 levels)");
    expect(result.status).toBe(1);
  });

  test("same event is unreadable on any thread", async () => {
    const path = writeWorkerFile([identifyLine("a@example.com", "m-1"), deepTrack], 1);
    const onWorker = await runCli(["send", "--dry-run", "--no-stitch", path]);
    const onMainThread = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${deepTrack}\n` });

    expect(onMainThread.stderr).toContain("-:1: the event is nested");
    expect(onWorker.stderr).toContain(`${path}:2: the event is nested`);
    expect(onWorker.stdout).not.toContain('"message_id":"deep-1"');
    expect(onWorker.status).toBe(1);
  });

  test("stitching an event mapped by a worker does not crash", async () => {
    // No email: stitching gives it the email of u-deep, and serialises its traits again.
    const deepIdentify = JSON.stringify({ type: "identify", messageId: "deep-2", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-deep" }).replace(
      /}$/,
      `,"traits":{"x":${nestedText(8_000)}}}`,
    );
    const knownIdentify = JSON.stringify({ type: "identify", messageId: "known", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-deep", traits: { email: "deep@example.com" } });
    const path = writeWorkerFile([knownIdentify, deepIdentify], 1);
    const result = await runCli(["send", "--dry-run", path]);

    expect(result.stderr).not.toContain("internal error");
    expect(unwrapSummary(result.stderr)).toContain("the event is nested too deeply to process (more than 1,000 levels)");
    expect(result.stdout).toContain('"message_id":"known"');
    expect(result.status).toBe(1);
  });

  test("first pass learns nothing from a deep event", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-deep-"));
    const path = join(directory, "events.jsonl");
    const deepIdentify = JSON.stringify({ type: "identify", messageId: "deep-3", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-deep" }).replace(
      /}$/,
      `,"traits":{"email":"deep@example.com","x":${nestedText(999)}}}`,
    );
    const track = JSON.stringify({ type: "track", event: "Opened", messageId: "m-2", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-deep" });
    writeFileSync(path, `${deepIdentify}\n${track}\n`);
    const result = await runCli(["send", "--dry-run", path]);

    expect(unwrapSummary(result.stderr)).toContain(`${path}:1: the event is nested too deeply to process (more than 1,000 levels)`);
    expect(parseRequests(result.stdout)).toHaveLength(0);
    expect(result.stderr).toMatch(/no-identity\s+1/);
  });

  test("deep element of a JSON document loses only that element", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-deep-"));
    const path = join(directory, "events.json");
    const deepIdentify = identifyLine("deep@example.com", "m-2").replace(/}}$/, `,"x":${nestedText(5_000)}}}`);
    writeFileSync(path, `[${identifyLine("a@example.com", "m-1")},${deepIdentify},${identifyLine("b@example.com", "m-3")}]`);
    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["a@example.com", "b@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:2: the event is nested too deeply to process (more than 1,000 levels)`);
    expect(result.status).toBe(1);
  });

  test("inspect reads the lines after a deep event", async () => {
    const input = [identifyLine("a@example.com", "m-1"), deepTrack, identifyLine("b@example.com", "m-3")].join("\n");
    const result = await runCli(["inspect", "--json", "-"], { stdin: `${input}\n` });
    const report = JSON.parse(result.stdout) as { eventsRead: number; unreadableByReason: Record<string, number> };

    expect(report.eventsRead).toBe(2);
    expect(report.unreadableByReason).toEqual({ "malformed-json": 1 });
    expect(result.status).toBe(1);
  });

  test("preview reads the lines after a deep event", async () => {
    const input = [identifyLine("a@example.com", "m-1"), deepTrack, identifyLine("b@example.com", "m-3")].join("\n");
    const result = await runCli(["preview", "-"], { stdin: `${input}\n` });

    expect(unwrapSummary(result.stderr)).toContain("-:2: the event is nested too deeply to process (more than 1,000 levels)");
    expect(result.stdout).toContain("2 events read");
    expect(result.status).toBe(1);
  });
});

describe("one file named twice", () => {
  test("is read once, with a warning", async () => {
    const once = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"]);
    const twice = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec", "./fixtures/archives/spec/segment-spec-complete-examples.jsonl"]);

    expect(parseRequests(twice.stdout)).toEqual(parseRequests(once.stdout));
    expect(unwrapSummary(twice.stderr)).toContain(
      "skipped ./fixtures/archives/spec/segment-spec-complete-examples.jsonl: the same file as fixtures/archives/spec/segment-spec-complete-examples.jsonl, which is read once",
    );
    expect(twice.stderr).not.toContain("duplicate-message-id");
  });
});

describe("a line too long to be an event", () => {
  test("is skipped and reported", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-long-line-"));
    const path = join(directory, "events.jsonl");
    const huge = JSON.stringify({ type: "identify", messageId: "huge", traits: { email: "huge@example.com", blob: "x".repeat(20 * 1024 * 1024) } });
    writeFileSync(path, `${identifyLine("a@example.com", "m-1")}\n${huge}\n${identifyLine("b@example.com", "m-3")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["a@example.com", "b@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:2: the line is 20 MiB long, more than the 16 MiB a line may have, so it was skipped`);
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });
});


/** Runs a bash script with `args` as `$1`…, collecting its output. */
async function runBash(script: string, args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = startChild("bash", ["-c", script, "bash", ...args], { cwd: projectRoot, started: [] });
  const status = await run.exited(30_000);
  return { status, ...run.output };
}

describe("terminal control characters in event values", () => {
  // An OSC sequence that sets the terminal's title, then a C1 CSI sequence that turns text red.
  const type = "\u001b]0;owned\u0007\u009b31m";
  const input = JSON.stringify({ type, event: "Signed Up", messageId: "control-1", userId: "u-1" });

  test("send summary shows them escaped", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(result.stderr).toContain("\\u001b]0;owned\\u0007\\u009b31m 1");
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  test("inspect text shows them escaped", async () => {
    const result = await runCli(["inspect", "--no-stitch", "-"], { stdin: input });

    expect(result.stdout).toContain("\\u001b]0;owned\\u0007\\u009b31m");
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
