import stringWidth from "string-width";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generatedEvent } from "../helpers/generated-archive.js";
import { binPath, parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { runInTerminal } from "../helpers/run-in-terminal.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const timestamp = "2024-01-01T00:00:00.000Z";

/** One event per reason for not sending, then events that would be sent. */
const mixedEvents = [
  { type: "page", name: "Home", messageId: "page-1", timestamp, userId: "u-1" },
  { type: "identify", messageId: "anonymous-1", timestamp, anonymousId: "a-1", traits: { plan: "free" } },
  { type: "track", event: "Clicked", messageId: "browser-1", timestamp, context: { library: { name: "analytics.js" } }, properties: { email: "b@example.com" } },
  { type: "track", event: "Undated", messageId: "undated-1", properties: { email: "c@example.com" } },
  { type: "identify", messageId: "identify-1", timestamp, traits: { email: "ada@example.com", name: "Ada" } },
  { type: "track", event: "Signed Up", messageId: "track-1", timestamp, properties: { email: "ada@example.com", plan: "pro" } },
];

let directory: string;
let mixedPath: string;

function writeLines(name: string, lines: readonly string[]): string {
  const path = join(directory, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-preview-"));
  mixedPath = writeLines("mixed.jsonl", mixedEvents.map((event) => JSON.stringify(event)));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/**
 * Runs the binary with a stdin larger than a pipe's buffer. Unlike runCli it ignores EPIPE, because
 * a command that stops reading early closes stdin before all of it is written.
 */
function runWithLargeStdin(args: readonly string[], stdin: string): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, env: { PATH: process.env["PATH"] }, stdio: ["pipe", "pipe", "ignore"] });
    const stdout: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(stdout).toString("utf8") }));
    child.stdin.end(stdin);
  });
}

/** Reads the request bodies out of stacked preview text: the indented JSON after each "request" line. */
function previewRequestBodies(text: string): unknown[] {
  const lines = text.split("\n");
  const bodies: unknown[] = [];
  lines.forEach((line, index) => {
    if (!line.startsWith("request  POST ")) {
      return;
    }
    const json: string[] = [];
    for (let next = index + 1; next < lines.length && (lines[next] ?? "").startsWith("  "); next += 1) {
      json.push((lines[next] ?? "").slice(2));
    }
    bodies.push(JSON.parse(json.join("\n")));
  });
  return bodies;
}

describe("preview examples", () => {
  test("request equals the dry-run request", async () => {
    const preview = await runCli(["preview", mixedPath]);
    const dryRun = await runCli(["send", "--dry-run", mixedPath]);

    const sortedJson = (bodies: unknown[]): string[] => bodies.map((body) => JSON.stringify(body)).sort();

    expect(preview.status).toBe(0);
    expect(sortedJson(previewRequestBodies(preview.stdout))).toEqual(sortedJson(parseRequests(dryRun.stdout).map((request) => request.body)));
  });

  test("each mapping has a titled section", async () => {
    const result = await runCli(["preview", mixedPath]);

    expect(result.stdout).toContain('━━ Track Event (trackEvent) · trigger type = "track" · 1 of 3 examples');
    expect(unwrapSummary(result.stdout)).toContain('━━ Identify Visitor (identifyVisitor) · trigger type = "identify" · 1 of 3 examples');
    expect(result.stdout).toContain("request  POST https://api2.getkoala.com/web/projects/<public-key>/batch");
    expect(result.stdout).toContain(`── example 1 · ${mixedPath}:5`);
  });

  test("--limit caps the examples per mapping", async () => {
    const path = writeLines("many.jsonl", Array.from({ length: 20 }, (_, index) => JSON.stringify(generatedEvent(index))));
    const result = await runCli(["preview", "--limit", "2", path]);

    expect(previewRequestBodies(result.stdout)).toHaveLength(4);
    expect(result.stdout).toContain("2 of 2 examples");
  });

  test("--limit above 100 is taken", async () => {
    const path = writeLines("many.jsonl", Array.from({ length: 300 }, (_, index) => JSON.stringify(generatedEvent(index))));
    const result = await runCli(["preview", "--limit", "120", "--no-stitch", path]);

    expect(result.status).toBe(0);
    expect(previewRequestBodies(result.stdout)).toHaveLength(240);
    expect(unwrapSummary(result.stdout)).toContain("120 of 120 examples");
  });

  test("--limit past --max-events shows what was read", async () => {
    const path = writeLines("many.jsonl", Array.from({ length: 300 }, (_, index) => JSON.stringify(generatedEvent(index))));
    const result = await runCli(["preview", "--limit", "1000", "--max-events", "50", "--no-stitch", path]);

    expect(result.status).toBe(0);
    expect(previewRequestBodies(result.stdout)).toHaveLength(50);
  });

  test("public key shown masked", async () => {
    const result = await runCli(["preview", "--public-key", "pk_live_0123456789abcdef", mixedPath]);

    expect(result.stdout).toContain("/web/projects/pk_l****/batch");
    expect(result.stdout).not.toContain("pk_live_0123456789abcdef");
  });
});

describe("preview of events not sent", () => {
  test("no mapping matched names the failing triggers", async () => {
    const result = await runCli(["preview", mixedPath]);

    expect(result.stdout).toContain("no-mapping-matched: no mapping's trigger matched: 1 in the events read");
    expect(result.stdout).toContain(`── ${mixedPath}:1 · type page\n  Track Event: type = "track"\n  Identify Visitor: type = "identify"`);
  });

  test("event without a type says so", async () => {
    const result = await runCli(["preview", "-"], { stdin: `${JSON.stringify({ messageId: "untyped-1", event: "Clicked" })}\n` });

    expect(unwrapSummary(result.stdout)).toContain("── -:1 · no type Track Event: type");
  });

  test("no identity, browser event and invalid field", async () => {
    const result = await runCli(["preview", mixedPath]);
    // A heading with a long temporary path wraps, so its lines are joined before comparing.
    const text = unwrapSummary(result.stdout);

    expect(text).toContain(`── ${mixedPath}:2 · type identify · mapping "Identify Visitor" the request has no email and no profile_id`);
    expect(text).toContain(`── ${mixedPath}:3 · type track · mapping "Track Event" recorded by analytics.js`);
    expect(text).toContain(`── ${mixedPath}:4 · type track · mapping "Track Event" sent_at: is required`);
  });

  test("notes examples include stitching", async () => {
    const result = await runCli(["preview", mixedPath]);

    expect(result.stdout).toContain("Examples and counts include identity stitching, as send applies it:");
  });

  test("notes examples without stitching under --no-stitch", async () => {
    const result = await runCli(["preview", "--no-stitch", mixedPath]);

    expect(unwrapSummary(result.stdout)).toContain("Examples and counts are without identity stitching (--no-stitch), as send --no-stitch sends.");
  });

  test("--browser-events include sends the browser event", async () => {
    const result = await runCli(["preview", "--browser-events", "include", mixedPath]);

    expect(result.stdout).not.toContain("recorded by analytics.js");
    expect(result.stdout).toContain(`── example 1 · ${mixedPath}:3`);
  });
});

describe("preview of unreadable inputs", () => {
  test("warnings name the file", async () => {
    const folder = join(directory, "mixed-folder");
    mkdirSync(join(folder, "sub"), { recursive: true });
    writeFileSync(join(folder, "sub", "dbt-model.csv"), "event_id,foo\n1,2\n");
    writeFileSync(join(folder, "readme.txt"), "not events\n");
    const result = await runCli(["preview", folder]);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain(`warning: ${join(folder, "sub", "dbt-model.csv")}:1: This CSV is not a table koala-replay recognises`);
    expect(unwrapSummary(result.stderr)).toContain(`warning: skipped ${join(folder, "readme.txt")}: not an archive`);
    expect(result.stdout).toContain("no event was read");
    expect(result.stdout).toContain("0 events read (1 line or file could not be read: see the warnings)");
  });
});

describe("preview stops reading early", () => {
  test("once every mapping has its examples", async () => {
    const lines = Array.from({ length: 10 }, (_, index) => JSON.stringify(generatedEvent(index)));
    const path = writeLines("then-broken.jsonl", [...lines, "{not json"]);
    const result = await runCli(["preview", "--limit", "2", path]);

    expect(result.stdout).toContain("4 events read; reading stopped once every mapping had 2 examples.");
    expect(result.stderr).not.toContain("invalid JSON");
  });

  test("at --max-events when a mapping has too few", async () => {
    const identifies = Array.from({ length: 10 }, (_, index) => JSON.stringify({ ...generatedEvent(index * 2) }));
    const path = writeLines("identifies.jsonl", identifies);
    const result = await runCli(["preview", "--max-events", "5", path]);

    expect(result.stdout).toContain("5 events read; reading stopped at --max-events.");
    expect(result.stdout).toContain("0 of 3 examples");
  });

  test("whole input when it ends first", async () => {
    const result = await runCli(["preview", mixedPath]);

    expect(result.stdout).toContain("6 events read: the whole input.");
  });

  test("stdin is left unread once done", async () => {
    const lines = Array.from({ length: 50_000 }, (_, index) => JSON.stringify(generatedEvent(index)));
    const result = await runWithLargeStdin(["preview", "--limit", "1", "-"], `${lines.join("\n")}\n`);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("2 events read; reading stopped");
  });
});

describe("preview layout and colour", () => {
  test("plain text in a pipe", async () => {
    const result = await runCli(["preview", mixedPath]);

    expect(result.stdout).not.toMatch(/\u001b\[/);
  });

  test("side by side when wide enough", async () => {
    const result = await runCli(["preview", mixedPath], { env: { COLUMNS: "160" } });

    expect(result.stdout).toMatch(/^event +│ request {2}POST /m);
  });

  test("stacked when narrow", async () => {
    const result = await runCli(["preview", mixedPath], { env: { COLUMNS: "100" } });

    expect(result.stdout).not.toContain("│");
  });

  test("--layout stacked overrides the width", async () => {
    const result = await runCli(["preview", "--layout", "stacked", mixedPath], { env: { COLUMNS: "200" } });

    expect(result.stdout).not.toContain("│");
  });

  test("colour on a terminal", async () => {
    const result = await runInTerminal(["preview", mixedPath]);

    expect(result.output).toContain("\u001b[1m━━ Track Event");
    expect(result.output).toContain('\u001b[36m"email"\u001b[39m:');
  });

  test("NO_COLOR on a terminal", async () => {
    const result = await runInTerminal(["preview", mixedPath], { env: { NO_COLOR: "1" } });

    expect(result.output).toContain("━━ Track Event");
    expect(result.output).not.toMatch(/\u001b\[[0-9;]*m/);
  });

  test("FORCE_COLOR=0 on a terminal", async () => {
    const result = await runInTerminal(["preview", mixedPath], { env: { FORCE_COLOR: "0" } });

    expect(result.output).not.toMatch(/\u001b\[[0-9;]*m/);
  });

  test.each(["80", "160"])("wrapped emoji stay whole at %s columns", async (columns) => {
    // Each emoji is two UTF-16 code units, and both the wrapped JSON lines and the 300-character
    // sample of the page event (not sent) would be cut inside one at these widths.
    const note = "😀".repeat(120);
    const events = [
      { type: "track", event: "Noted", messageId: "emoji-1", timestamp, properties: { email: "ada@example.com", note } },
      { type: "page", name: "Home", messageId: "emoji-page-1", timestamp, properties: { note } },
    ];
    const path = writeLines(`emoji-${columns}.jsonl`, events.map((event) => JSON.stringify(event)));
    const result = await runCli(["preview", "--no-stitch", path], { env: { COLUMNS: columns } });

    expect(result.stdout).toContain("😀");
    expect(result.stdout).not.toContain("\ufffd");
  });
});

describe("preview of wide characters", () => {
  test.each(["80", "160"])("lines fit %s columns", async (columns) => {
    const note = "漢字".repeat(100);
    const events = [{ type: "track", event: "Noted 漢字", messageId: "wide-1", timestamp, properties: { email: "ada@example.com", note } }];
    const path = writeLines(`wide-${columns}.jsonl`, events.map((event) => JSON.stringify(event)));
    const result = await runCli(["preview", "--no-stitch", path], { env: { COLUMNS: columns } });

    expect(result.stdout).toContain("漢字");
    for (const line of result.stdout.split("\n")) {
      expect(stringWidth(line), line).toBeLessThanOrEqual(Number(columns));
    }
  });
});

describe("preview of a long message_id in a pipe", () => {
  test("keeps the id on one line", async () => {
    const messageId = "node-next-1709252872935-8aac4550-bd90-4ceb-8e18-70a65d9d9bcc";
    const events = [{ type: "track", event: "Order Completed", messageId, timestamp, context: { library: { name: "analytics-node" }, traits: { email: "ada@example.com" } } }];
    const path = writeLines("long-id.jsonl", events.map((event) => JSON.stringify(event)));
    const result = await runCli(["preview", "--no-stitch", path], { env: { COLUMNS: "80" } });
    const idLines = result.stdout.split("\n").filter((line) => line.includes(messageId));

    // The event's messageId, and the entry's message_id, which wraps after its key.
    expect(idLines).toHaveLength(2);
    for (const line of result.stdout.split("\n")) {
      expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    }
  });
});

describe("preview usage errors", () => {
  test.each([
    [["--limit", "0"], 'invalid --limit "0"'],
    [["--max-events", "many"], 'invalid --max-events "many"'],
    [["--browser-events", "sometimes"], 'invalid --browser-events value "sometimes"'],
  ])("%j exits 2", async (argv, message) => {
    const result = await runCli(["preview", ...argv, mixedPath]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });

  test("--layout outside its choices exits 2", async () => {
    const result = await runCli(["preview", "--layout", "wide", mixedPath]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--layout");
  });
});

describe("preview with a config file", () => {
  test("failing condition of a compound trigger", async () => {
    const configPath = join(directory, "orders.config.json");
    const init = await runCli(["init", configPath]);
    const config = JSON.parse(readFileSync(configPath, "utf8")) as { mappings: Array<{ name: string; trigger: string }> };
    const track = config.mappings.find((mapping) => mapping.name === "Track Event");
    if (track === undefined) {
      throw new Error("koala-replay init wrote no Track Event mapping");
    }
    track.trigger = 'type = "track" and event = "Order Completed"';
    writeFileSync(configPath, JSON.stringify(config));
    const result = await runCli(["preview", "--limit", "10", "--config", configPath, mixedPath]);

    expect(init.status).toBe(0);
    expect(unwrapSummary(result.stdout)).toContain('trigger type = "track" and event = "Order Completed"');
    // Signed Up is a track event, so only the event-name condition rejects it.
    expect(result.stdout).toContain(`── ${mixedPath}:6 · type track\n  Track Event: event = "Order Completed"\n  Identify Visitor: type = "identify"`);
  });

  test("invalid trigger exits 2 before reading", async () => {
    const configPath = join(directory, "broken.config.json");
    await runCli(["init", configPath]);
    const config = JSON.parse(readFileSync(configPath, "utf8")) as { mappings: Array<{ trigger: string }> };
    (config.mappings[0] as { trigger: string }).trigger = 'type = = "track"';
    writeFileSync(configPath, JSON.stringify(config));
    const result = await runCli(["preview", "--config", configPath, mixedPath]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error:");
    expect(result.stderr).not.toContain("    at ");
    expect(result.stdout).toBe("");
  });
});
