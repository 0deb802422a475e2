import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// -v lines hide every email as email# and 8 hex digits of its SHA-256, because logs of a run end up
// in CI. The summary, the warnings and the report of a run hide the emails that they quote from
// events and from Koala's responses in the same way. The not-sent file keeps them, because it
// contains the events themselves.

const EMAIL = "ada@example.com";
const HIDDEN = `email#${createHash("sha256").update(EMAIL).digest("hex").slice(0, 8)}`;
const KEY = "pk_hidden_emails_0123456789";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-hidden-emails-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeEvents(lines: readonly string[]): string {
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("emails outside -v", () => {
  test("dry run hides found values and line excerpts", async () => {
    const input = writeEvents([
      // sent_at gets the email, which is no date-time, so the entry is invalid and the reason quotes it.
      JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", userId: "u-1", timestamp: EMAIL, traits: { email: EMAIL } }),
      // A line of an email list given as events: JSON.parse quotes it in its error.
      EMAIL,
    ]);
    const reportPath = join(directory, "report.json");
    const notSentPath = join(directory, "not-sent.ndjson");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, "--not-sent", notSentPath, input], { cwd: directory, env: { COLUMNS: "300" } });
    const summary = unwrapSummary(result.stderr);
    const report = readFileSync(reportPath, "utf8");

    expect(result.status).toBe(1);
    expect(result.stderr).not.toContain(EMAIL);
    expect(summary).toContain(`found string "${HIDDEN}")`);
    expect(summary).toContain(`warning: ${input}:2: invalid JSON (Unexpected token 'a', "${HIDDEN}" is not valid JSON)`);
    expect(report).not.toContain(EMAIL);
    expect(report).toContain(`found string \\"${HIDDEN}\\"`);
    // The not-sent file contains each event as read, so its messages keep the values too.
    expect(readFileSync(notSentPath, "utf8")).toContain(`found string \\"${EMAIL}\\"`);
  });

  test("send hides Koala's response excerpts", async () => {
    // A server that rejects every batch with a 400 whose body quotes an email, as an API may.
    const server: Server = createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: `invalid entry for ${EMAIL}` })));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const input = writeEvents([JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", userId: "u-1", timestamp: "2024-01-01T00:00:00Z", traits: { email: EMAIL } })]);
      const reportPath = join(directory, "report.json");
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      const result = await runCli(["send", "--no-stitch", "--endpoint", endpoint, "--state", join(directory, "state.json"), "--report", reportPath, input], {
        cwd: directory,
        env: { KOALA_PUBLIC_KEY: KEY, COLUMNS: "300" },
      });
      const summary = unwrapSummary(result.stderr);
      const report = JSON.parse(readFileSync(reportPath, "utf8")) as { failedByReason: Record<string, number>; failedExamples: Array<{ reason: string }> };

      expect(result.status).toBe(1);
      expect(result.stderr).not.toContain(EMAIL);
      expect(summary).toContain(`Nothing was delivered: 1 entry failed, most with HTTP 400: rejected-by-api: {"error":"invalid entry for ${HIDDEN}"}`);
      expect(Object.keys(report.failedByReason)).toEqual([`HTTP 400: rejected-by-api: {"error":"invalid entry for ${HIDDEN}"}`]);
      expect(report.failedExamples[0]?.reason).toContain(HIDDEN);
      expect(JSON.stringify(report)).not.toContain(EMAIL);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("config patterns stay as given", async () => {
    const input = writeEvents([JSON.stringify({ type: "identify", messageId: "m-1", userId: "u-1", timestamp: "2024-01-01T00:00:00Z", traits: { email: EMAIL } })]);
    const reportPath = join(directory, "report.json");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--exclude-emails", EMAIL, "--report", reportPath, input], { cwd: directory });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { options: { excludeEmails: string[] } };

    expect(result.status).toBe(0);
    expect(report.options.excludeEmails).toEqual([EMAIL]);
  });

  test("inspect hides line excerpts", async () => {
    // A first line of JSON, because a file that starts otherwise is read as CSV.
    const input = writeEvents([JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", userId: "u-1", timestamp: "2024-01-01T00:00:00Z" }), EMAIL]);

    const text = await runCli(["inspect", "--no-stitch", input], { env: { COLUMNS: "300" } });
    const json = await runCli(["inspect", "--json", "--no-stitch", input]);

    expect(text.stdout).not.toContain(EMAIL);
    expect(unwrapSummary(text.stdout)).toContain(`"${HIDDEN}" is not valid JSON`);
    expect(json.stdout).not.toContain(EMAIL);
  });
});
