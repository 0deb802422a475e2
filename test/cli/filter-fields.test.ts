import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { generatedEvent, writeGeneratedArchive } from "../helpers/generated-archive.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Generated events have type, event, userId, traits.email, timestamp and properties.revenue.

async function summaryOf(count: number, filterArgs: readonly string[]): Promise<string> {
  const archive = writeGeneratedArchive(count);
  try {
    const result = await runCli(["send", "--dry-run", "--no-stitch", ...filterArgs, archive.path]);
    expect(result.status).toBe(0);
    return result.stderr;
  } finally {
    archive.remove();
  }
}

describe("filter that excludes every event", () => {
  test("names the field no event has", async () => {
    const summary = await summaryOf(20, ["--filter", 'evnt = "Order Completed"']);

    expect(summary).toContain("Nothing would be sent: 20 of 20 were excluded");
    expect(summary).toContain("No event read has the field evnt, which --filter tests.");
  });

  test("suggests the field a typo meant", async () => {
    const summary = unwrapSummary(await summaryOf(20, ["--filter", 'evnt = "Order Completed" and email = "a@example.com"']));

    expect(summary).toContain("No event read has the fields evnt and email, which --filter tests. For evnt, did you mean event? For email, did you mean traits.email?");
  });

  test("suggests nothing far from the fields read", async () => {
    const summary = unwrapSummary(await summaryOf(20, ["--filter", 'campaign_source = "x"']));

    expect(summary).toContain("No event read has the field campaign_source, which --filter tests. Check --filter");
  });

  test("lists only the missing fields", async () => {
    const summary = await summaryOf(20, ["--filter", 'evnt = "Order Completed" and propertys.total > 0 and properties.revenue >= 0']);

    expect(summary).toContain("No event read has the fields evnt and propertys.total, which --filter tests.");
    expect(summary).not.toMatch(/No event read has[^.]*properties\.revenue/);
  });

  test("names fields found by worker threads", async () => {
    // About 4 MB in 1 MiB chunks. The first chunk is processed in this thread, and the pool starts
    // with the second. Only events 10,000 to 13,999, in the middle chunks, have properties.rare, so
    // its bit must cross the worker codec.
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-filter-fields-"));
    const path = join(directory, "events.jsonl");
    const lines: string[] = [];
    for (let index = 0; index < 20_000; index += 1) {
      const event = generatedEvent(index);
      if (index >= 10_000 && index < 14_000) {
        event["properties"] = { revenue: index, rare: true };
      }
      lines.push(JSON.stringify(event));
    }
    writeFileSync(path, `${lines.join("\n")}\n`);
    try {
      const result = await runCli(["send", "--dry-run", "--no-stitch", "--filter", 'evnt = "Order Completed" or properties.rare = false', path]);

      expect(result.stderr).toContain("20,000 of 20,000 were excluded");
      expect(result.stderr).toContain("No event read has the field evnt, which --filter tests.");
      expect(unwrapSummary(result.stderr)).toContain("For evnt, did you mean event?");
      expect(result.stderr).not.toMatch(/No event read has[^.]*properties\.rare/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("labels --since fields separately", async () => {
    const summary = await summaryOf(20, ["--filter", 'evnt = "x"', "--since", "2030-01-01"]);

    expect(summary).toContain("No event read has the field evnt, which --filter tests.");
    expect(summary).not.toContain("the field timestamp");
  });

  test("says nothing when every field exists", async () => {
    const summary = await summaryOf(20, ["--filter", 'event = "Signed Up"']);

    expect(summary).toContain("20 of 20 were excluded");
    expect(summary).not.toContain("No event read has");
  });

  test("says nothing when some events pass", async () => {
    const summary = await summaryOf(20, ["--filter", 'type = "identify" or evnt = "x"']);

    expect(summary).not.toContain("No event read has");
  });
});

describe("inspect and preview with a filter that excludes every event", () => {
  test.each([["inspect"], ["preview"]])("%s warns with a suggestion", async (command) => {
    const archive = writeGeneratedArchive(20);
    try {
      const result = await runCli([command, "--no-stitch", "--filter", 'evnt = "Order Completed"', archive.path]);

      expect(result.status).toBe(0);
      expect(unwrapSummary(result.stderr)).toContain(
        "warning: every event read was excluded by --filter, --since or --until. No event read has the field evnt, which --filter tests. For evnt, did you mean event?",
      );
    } finally {
      archive.remove();
    }
  });

  test.each([["inspect"], ["preview"]])("%s says nothing when fields exist", async (command) => {
    const archive = writeGeneratedArchive(20);
    try {
      const result = await runCli([command, "--no-stitch", "--filter", 'event = "Signed Up"', archive.path]);

      expect(result.status).toBe(0);
      expect(result.stderr).not.toContain("No event read has");
    } finally {
      archive.remove();
    }
  });
});
