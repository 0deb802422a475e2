import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Leaving out the entries of one's own people by email, after identity stitching has filled the
// emails that events lack.

const KEY = "pk_exclude_emails_0123456789";

/**
 * m-1 and m-2 belong to staff@yourcompany.com, m-2 only through the identify call m-1. m-3 has an
 * email in other case than the patterns. m-4 has only a profile_id, m-5 and m-6 are a customer's.
 */
const events = [
  { type: "identify", userId: "u-staff", traits: { email: "staff@yourcompany.com" }, messageId: "m-1" },
  { type: "track", userId: "u-staff", event: "Opened Report", messageId: "m-2" },
  { type: "track", event: "Opened Report", email: "Boss@YourCompany.COM", messageId: "m-3" },
  { type: "track", event: "Opened Report", properties: { profile_id: "p-9" }, messageId: "m-4" },
  { type: "track", userId: "u-customer", event: "Opened Report", email: "customer@example.org", messageId: "m-5" },
  { type: "identify", userId: "u-customer", traits: { email: "customer@example.org" }, messageId: "m-6" },
];

const timestamp = "2024-05-01T10:00:00.000Z";
const mappings = [
  {
    name: "Track Event",
    trigger: 'type = "track"',
    action: "trackEvent",
    mapping: {
      email: { "@path": "$.email" },
      // Koala reads the profile_id of a track event from its properties.
      properties: { "@path": "$.properties" },
      event: { "@path": "$.event" },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.messageId" },
    },
  },
  {
    name: "Identify Visitor",
    trigger: 'type = "identify"',
    action: "identifyVisitor",
    mapping: { email: { "@path": "$.traits.email" }, traits: { "@path": "$.traits" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } },
  },
];

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-exclude-emails-"));
  writeFileSync(join(directory, "events.jsonl"), `${events.map((event) => JSON.stringify({ ...event, timestamp })).join("\n")}\n`);
  writeConfig("koala-replay.config.json", {});
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Writes a config of the two mappings, with the keys of `extra` before them, indented by 2 spaces. */
function writeConfig(name: string, extra: Record<string, unknown>): string {
  writeFileSync(join(directory, name), `${JSON.stringify({ ...extra, mappings }, null, 2)}\n`);
  return name;
}

function run(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cwd: directory, env });
}

/** Runs send --dry-run with a report, and returns the message_ids it would send, its report and its summary. */
async function dryRun(args: readonly string[]): Promise<{ sent: string[]; emails: Map<string, unknown>; report: Record<string, any>; summary: string }> {
  const result = await run(["send", "--dry-run", "--report", "report.json", ...args, "events.jsonl"]);
  expect(result.status).toBe(0);
  const emails = new Map<string, unknown>();
  for (const request of parseRequests(result.stdout)) {
    const entries = [...((request.body["events"] as Array<Record<string, unknown>> | undefined) ?? []), ...((request.body["identifies"] as Array<Record<string, unknown>> | undefined) ?? [])];
    for (const entry of entries) {
      emails.set(String(entry["message_id"]), request.body["email"]);
    }
  }
  const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;
  return { sent: [...emails.keys()].sort(), emails, report, summary: unwrapSummary(result.stderr) };
}

describe("send --exclude-emails", () => {
  test("email from identify call is excluded", async () => {
    const before = await dryRun([]);
    const after = await dryRun(["--exclude-emails", "*@yourcompany.com"]);

    // Without the option, m-2 is sent with the email that stitching took from the identify call m-1.
    expect(before.emails.get("m-2")).toBe("staff@yourcompany.com");
    expect(after.sent).toEqual(["m-4", "m-5", "m-6"]);
    expect(after.report.skippedByReason["excluded-email"]).toBe(3);
    expect(after.report.options.excludeEmails).toEqual(["*@yourcompany.com"]);
    expect(after.summary).toContain("excluded-email 3 the person's email matches a pattern of --exclude-emails or excludeEmails in the config");
  });

  test("event of an excluded person with another's email is excluded", async () => {
    // The staff member, identified by m-1, invites a customer: the request's email is the invitee's,
    // which Koala takes from properties.email, and a later event of theirs without an email follows.
    const invite = { type: "track", userId: "u-staff", event: "Invite Sent", properties: { email: "invitee@example.org" }, messageId: "m-7", timestamp };
    const later = { type: "track", userId: "u-staff", event: "Opened Report", messageId: "m-8", timestamp: "2024-05-02T10:00:00.000Z" };
    const lines = [...events.map((event) => JSON.stringify({ ...event, timestamp })), JSON.stringify(invite), JSON.stringify(later)];
    writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
    const before = await dryRun([]);
    const after = await dryRun(["--exclude-emails", "*@yourcompany.com"]);
    const unstitched = await dryRun(["--exclude-emails", "*@yourcompany.com", "--no-stitch"]);

    expect(before.emails.get("m-7")).toBe("invitee@example.org");
    // The invitee's email does not become the staff member's for stitching.
    expect(before.emails.get("m-8")).toBe("staff@yourcompany.com");
    expect(after.sent).toEqual(["m-4", "m-5", "m-6"]);
    expect(after.report.skippedByReason["excluded-email"]).toBe(5);
    // Without stitching nothing links u-staff to an email, so only the event's own emails count.
    expect(unstitched.sent).toContain("m-7");
  });

  // NOTE: an anonymousId names a browser, not a person. A shared browser (a kiosk at a trade show)
  // that staff used last links a visitor's anonymous events to the staff email, and the identity
  // check then excludes them although their own email is the visitor's.
  test("anonymous event with a customer's email on a shared browser is sent", async () => {
    const visitor = { type: "track", anonymousId: "kiosk-1", event: "Lead Form Submitted", email: "visitor@example.org", messageId: "k-1", timestamp };
    const staffLater = { type: "identify", anonymousId: "kiosk-1", userId: "u-booth", traits: { email: "booth@yourcompany.com" }, messageId: "k-2", timestamp: "2024-05-01T11:00:00.000Z" };
    writeFileSync(join(directory, "events.jsonl"), `${[JSON.stringify(visitor), JSON.stringify(staffLater)].join("\n")}\n`);

    const after = await dryRun(["--exclude-emails", "*@yourcompany.com"]);

    expect(after.sent).toEqual(["k-1"]);
  });

  test("event of an excluded person is excluded through the worker threads", async () => {
    // Over 1 MiB, so that worker threads map the events and pass their ids on.
    const padding = "x".repeat(1_000);
    const lines = [JSON.stringify({ ...events[0], timestamp })];
    for (let index = 0; index < 1_500; index += 1) {
      const staff = index % 2 === 0;
      lines.push(JSON.stringify({ type: "track", userId: staff ? "u-staff" : "u-customer", event: "Invite Sent", messageId: `w-${index}`, timestamp, properties: { email: `invitee-${index}@example.org`, padding } }));
    }
    writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
    const after = await dryRun(["--exclude-emails", "*@yourcompany.com"]);

    expect(after.report.skippedByReason["excluded-email"]).toBe(751);
    expect(after.sent.filter((id) => id.startsWith("w-"))).toHaveLength(750);
  });

  test("email in an array is excluded", async () => {
    // Segment's destination takes properties.email as it is, so the array is sent whole.
    const arrayEvents = [
      { type: "track", event: "Opened Report", properties: { email: ["staff@yourcompany.com"] }, messageId: "m-7", timestamp },
      { type: "track", event: "Opened Report", properties: { email: ["customer@example.org"] }, messageId: "m-8", timestamp },
    ];
    writeFileSync(join(directory, "arrays.jsonl"), `${arrayEvents.map((event) => JSON.stringify(event)).join("\n")}\n`);

    const result = await run(["send", "--dry-run", "--no-stitch", "--report", "report.json", "--exclude-emails", "*@yourcompany.com", "arrays.jsonl"]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(result.status).toBe(0);
    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual([["customer@example.org"]]);
    expect(report.skippedByReason["excluded-email"]).toBe(1);
  });

  test("patterns match case-insensitively", async () => {
    const result = await dryRun(["--exclude-emails", "*@YOURCOMPANY.com"]);

    expect(result.sent).not.toContain("m-3");
    expect(result.sent).toEqual(["m-4", "m-5", "m-6"]);
  });

  test("profile_id-only entry is kept", async () => {
    const result = await dryRun(["--exclude-emails", "*@*"]);

    expect(result.sent).toEqual(["m-4"]);
    expect(result.report.skippedByReason["excluded-email"]).toBe(5);
    expect(result.summary).toContain("5 of 6 events belong to people whose email matches an email exclusion pattern, as asked.");
  });

  test("option adds to config list", async () => {
    const config = writeConfig("with-list.json", { excludeEmails: ["customer@example.org"] });
    const result = await dryRun(["--config", config, "--exclude-emails", "staff@yourcompany.com, boss@yourcompany.com"]);

    expect(result.sent).toEqual(["m-4"]);
    expect(result.report.options.excludeEmails).toEqual(["customer@example.org", "staff@yourcompany.com", "boss@yourcompany.com"]);
  });

  test("nothing sent names the patterns", async () => {
    const config = writeConfig("everyone.json", { excludeEmails: ["*@yourcompany.com", "*@example.org"] });
    const result = await run(["send", "--dry-run", "--no-stitch", "--filter", 'messageId != "m-4"', "--config", config, "events.jsonl"]);
    const summary = unwrapSummary(result.stderr);

    // Without stitching m-2 has no email, and the filter leaves out m-4, the only entry with a profile_id.
    expect(result.stdout).toBe("");
    expect(summary).toContain("Nothing would be sent: 4 of 6 belong to people whose email matches an email exclusion pattern.");
    expect(summary).toContain("If more were left out than you expected, check the patterns.");
  });

  test("repeated option adds patterns", async () => {
    const result = await dryRun(["--exclude-emails", "*@yourcompany.com", "--exclude-emails", "customer@example.org"]);

    // Commander kept only the last value, so the staff entries were sent.
    expect(result.sent).toEqual(["m-4"]);
    expect(result.report.options.excludeEmails).toEqual(["*@yourcompany.com", "customer@example.org"]);
  });

  test("international domain matches in either form", async () => {
    const international = [
      { type: "track", event: "Opened Report", email: "anna@xn--mnchen-3ya.de", messageId: "idn-1" },
      { type: "track", event: "Opened Report", email: "jonas@MÜNCHEN.de", messageId: "idn-2" },
      { type: "track", event: "Opened Report", email: "lea@example.org", messageId: "idn-3" },
    ];
    writeFileSync(join(directory, "events.jsonl"), `${international.map((event) => JSON.stringify({ ...event, timestamp })).join("\n")}\n`);

    // Mail to the ASCII form of a domain reaches the same mailboxes as mail to its Unicode form.
    expect((await dryRun(["--exclude-emails", "*@münchen.de"])).sent).toEqual(["idn-3"]);
    expect((await dryRun(["--exclude-emails", "*@XN--MNCHEN-3YA.de"])).sent).toEqual(["idn-3"]);
  });

  test("written-otherwise emails are excluded", async () => {
    const variants = [
      { type: "track", event: "Opened Report", email: "Staff <staff@yourcompany.com>", messageId: "form-1" },
      { type: "track", event: "Opened Report", email: "mailto:staff@yourcompany.com", messageId: "form-2" },
      { type: "track", event: "Opened Report", email: "staff@yourcompany.com.", messageId: "form-3" },
      { type: "track", event: "Opened Report", email: "ｓｔａｆｆ@ＹＯＵＲＣＯＭＰＡＮＹ.com", messageId: "form-4" },
      { type: "track", event: "Opened Report", email: "Customer <customer@example.org>", messageId: "form-5" },
    ];
    writeFileSync(join(directory, "events.jsonl"), `${variants.map((event) => JSON.stringify({ ...event, timestamp })).join("\n")}\n`);
    const result = await dryRun(["--exclude-emails", "*@yourcompany.com"]);

    expect(result.sent).toEqual(["form-5"]);
    // The email is sent as it was written.
    expect(result.emails.get("form-5")).toBe("Customer <customer@example.org>");
    expect(result.report.skippedByReason["excluded-email"]).toBe(4);
  });

  test("escaped wildcard matches only itself", async () => {
    const literal = [
      { type: "track", event: "Opened Report", email: "team*@yourcompany.com", messageId: "star-1" },
      { type: "track", event: "Opened Report", email: "teammate@yourcompany.com", messageId: "star-2" },
    ];
    writeFileSync(join(directory, "events.jsonl"), `${literal.map((event) => JSON.stringify({ ...event, timestamp })).join("\n")}\n`);
    const result = await dryRun(["--exclude-emails", "team\\*@yourcompany.com"]);

    expect(result.sent).toEqual(["star-2"]);
  });

  test("real send leaves excluded entries out", async () => {
    const emulator = await startKoalaEmulator({ publicKey: KEY });
    try {
      const result = await run(["send", "--endpoint", emulator.url, "--exclude-emails", "*@yourcompany.com", "events.jsonl"], { KOALA_PUBLIC_KEY: KEY });

      expect(result.status).toBe(0);
      expect([...emulator.accepted.keys()].sort()).toEqual(["m-4", "m-5", "m-6"]);
    } finally {
      await emulator.close();
    }
  });
});

describe("inspect --exclude-emails", () => {
  test("JSON names every pattern and its source", async () => {
    const config = writeConfig("listed.json", { excludeEmails: ["*@yourcompany.com"] });
    const result = await run(["inspect", "--json", "--config", config, "--exclude-emails", "customer@example.org", "events.jsonl"]);
    const report = JSON.parse(result.stdout) as Record<string, any>;

    expect(result.status).toBe(0);
    expect(report["excludeEmails"]).toEqual([
      { pattern: "*@yourcompany.com", source: "excludeEmails" },
      { pattern: "customer@example.org", source: "--exclude-emails" },
    ]);
    expect(report["mappingSource"]).toBe(join(directory, "listed.json"));
  });

  test("JSON without patterns has an empty list", async () => {
    const result = await run(["inspect", "--json", "events.jsonl"]);

    expect((JSON.parse(result.stdout) as Record<string, unknown>)["excludeEmails"]).toEqual([]);
  });

  test("text lists the patterns", async () => {
    const config = writeConfig("listed.json", { excludeEmails: ["*@yourcompany.com"] });
    const result = await run(["inspect", "--config", config, "--exclude-emails", "customer@example.org", "events.jsonl"], { COLUMNS: "120" });

    expect(result.stdout).toContain(
      "Excluded emails, whose entries are counted as excluded-email\n  *@yourcompany.com     (excludeEmails in listed.json)\n  customer@example.org  (--exclude-emails)\n",
    );
  });
});

describe("invalid email patterns", () => {
  test("config pattern rejected with position", async () => {
    const config = writeConfig("bad.json", { excludeEmails: ["*@yourcompany.com", "yourcompany.com"] });
    const result = await run(["send", "--dry-run", "--config", config, "events.jsonl"]);
    const message = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(message).toContain(
      '/excludeEmails/1 (line 4, column 5): invalid email pattern "yourcompany.com": it has no "@", so it matches no email address. To leave out every address at a domain, write *@yourcompany.com',
    );
  });

  test("zero-width space in pattern rejected", async () => {
    const config = writeConfig("pasted.json", { excludeEmails: ["*@yourcompany.com\u200b"] });
    const result = await run(["send", "--dry-run", "--config", config, "events.jsonl"]);

    // The pattern matched no address, so the staff entries were sent.
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(unwrapSummary(result.stderr)).toContain(
      "it contains whitespace or an invisible character (U+200B at character 18), which no email address has. Remove it",
    );
  });

  test("non-array config value rejected", async () => {
    const config = writeConfig("string.json", { excludeEmails: "*@yourcompany.com" });
    const result = await run(["check", "--config", config]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('/excludeEmails (line 2, column 3): "excludeEmails" must be an array of email patterns, such as ["*@yourcompany.com"], found string');
  });

  test.each([["send"], ["preview"], ["inspect"]])("%s rejects bad option pattern", async (command) => {
    const result = await run([command, "--dry-run", "--exclude-emails", "*@yourcompany.com,@partner.example", "events.jsonl"].filter((arg) => command === "send" || arg !== "--dry-run"));
    const message = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(message).toContain('invalid --exclude-emails pattern "@partner.example": it has nothing before "@", so it matches no email address. To leave out every address at partner.example, write *@partner.example');
    expect(message).toContain("give email patterns separated by commas");
  });

  test("pattern without a domain gets a valid example", async () => {
    const result = await run(["send", "--dry-run", "--exclude-emails", "*", "events.jsonl"]);

    // The suggestion was "*@", which is rejected in turn.
    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(
      'invalid --exclude-emails pattern "*": it has no "@", so it matches no email address. To leave out every address at a domain, write * followed by @ and the domain, such as *@yourcompany.com',
    );
  });

  test("empty option item rejected", async () => {
    const result = await run(["send", "--dry-run", "--exclude-emails", "*@yourcompany.com,", "events.jsonl"]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('invalid --exclude-emails pattern "" (nothing between two commas, or before or after one): the pattern is empty');
  });
});

describe("check and init", () => {
  test("check lists the config patterns", async () => {
    const config = writeConfig("listed.json", { excludeEmails: ["*@yourcompany.com", "ceo@partner.example"] });
    const result = await run(["check", "--config", config]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("excluded emails, whose entries are not sent:\n  *@yourcompany.com    (excludeEmails in listed.json)\n  ceo@partner.example  (excludeEmails in listed.json)\n");
  });

  test("check lists option patterns with their source", async () => {
    const config = writeConfig("listed.json", { excludeEmails: ["*@yourcompany.com"] });
    const result = await run(["check", "--config", config, "--exclude-emails", "ceo@partner.example", "--exclude-emails", "cfo@partner.example"]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "excluded emails, whose entries are not sent:\n  *@yourcompany.com    (excludeEmails in listed.json)\n  ceo@partner.example  (--exclude-emails)\n  cfo@partner.example  (--exclude-emails)\n",
    );
  });

  test("check rejects bad option pattern", async () => {
    const result = await run(["check", "--exclude-emails", "a\\"]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('invalid --exclude-emails pattern "a\\\\": it ends with a lone "\\" (character 2)');
  });

  test("check without patterns says none", async () => {
    const result = await run(["check"]);

    expect(result.stdout).toContain("excluded emails: none (set excludeEmails in the config or --exclude-emails)\n");
  });

  test("init writes an empty list", async () => {
    const init = await run(["init", "fresh.json"]);
    const config = JSON.parse(readFileSync(join(directory, "fresh.json"), "utf8")) as Record<string, unknown>;
    const check = await run(["check", "--config", "fresh.json"]);

    expect(init.status).toBe(0);
    expect(config["excludeEmails"]).toEqual([]);
    expect(check.status).toBe(0);
  });
});
