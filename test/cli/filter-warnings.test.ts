import { describe, expect, test } from "vitest";
import { writeGeneratedArchive } from "../helpers/generated-archive.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const MIXED = 'type = "identify" or type = "track" and event = "Order Completed"';

async function runOnArchive(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const archive = writeGeneratedArchive(10);
  try {
    return await runCli([...args, archive.path]);
  } finally {
    archive.remove();
  }
}

describe("--filter warnings", () => {
  test.each([
    [["send", "--dry-run", "--no-stitch"]],
    [["preview", "--no-stitch"]],
    [["inspect", "--no-stitch"]],
  ])("%s warns about and mixed with or", async (command) => {
    const result = await runOnArchive([...command, "--filter", MIXED]);

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain('warning: --filter: `and` binds tighter than `or`: the trigger is read as type = "track" and event = "Order Completed" in parentheses');
  });

  test("send warns about traits.* on track calls", async () => {
    const result = await runOnArchive(["send", "--dry-run", "--no-stitch", "--filter", 'type = "track" and !match(traits.email, "*@example.org")']);

    expect(unwrapSummary(result.stderr)).toContain("warning: --filter: `traits.email` reads the top-level traits, which Segment's track calls do not have");
  });

  test("send --quiet prints no warning", async () => {
    const result = await runOnArchive(["send", "--dry-run", "--no-stitch", "--quiet", "--filter", MIXED]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("warning:");
  });

  test("parenthesized filter: no warning", async () => {
    const result = await runOnArchive(["send", "--dry-run", "--no-stitch", "--filter", `(${MIXED.replace(" or ", ") or (")})`]);

    expect(result.stderr).not.toContain("warning:");
  });

  test("invalid filter: error only", async () => {
    const result = await runOnArchive(["inspect", "--no-stitch", "--filter", 'type = "track" and']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--filter: Invalid trigger at line 1, column 19");
    expect(result.stderr).not.toContain("warning:");
  });
});
