import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listFigureModules, measureFigureModules } from "../../bench/figure-modules.js";
import { ratioOf } from "../../bench/result-row.js";

const directory = mkdtempSync(join(tmpdir(), "koala-bench-modules-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

writeFileSync(
  join(directory, "counting.js"),
  `export async function measure(context) {
    return [{ id: "count", label: "events seen", unit: "events", koalaReplay: context.events.length, baseline: 2, baselineLabel: "two", higherIsBetter: true }];
  }`,
);
writeFileSync(join(directory, "throwing.js"), `export async function measure() { throw new Error("sample too small"); }`);
writeFileSync(join(directory, "no-measure.js"), `export const nothing = 1;`);
writeFileSync(join(directory, "notes.txt"), "not a module");

describe("measureFigureModules", () => {
  it("lists only .js files, sorted", () => {
    expect(listFigureModules(directory)).toEqual(["counting.js", "no-measure.js", "throwing.js"]);
  });

  it("skips modules whose source was deleted", () => {
    const sources = mkdtempSync(join(tmpdir(), "koala-bench-sources-"));
    writeFileSync(join(sources, "counting.ts"), "");
    expect(listFigureModules(directory, sources)).toEqual(["counting.js"]);
    rmSync(sources, { recursive: true, force: true });
  });

  it("returns no modules for a missing directory", () => {
    expect(listFigureModules(join(directory, "absent"))).toEqual([]);
  });

  it("runs each module and reports failures as rows", async () => {
    const messages: string[] = [];
    const rows = await measureFigureModules({ events: [{ type: "track" }, { type: "page" }, { type: "identify" }] }, (message) => messages.push(message), directory, null);

    expect(rows.map((row) => row.id)).toEqual(["count", "module.no-measure.failed", "module.throwing.failed"]);
    expect(rows[0]?.koalaReplay).toBe(3);
    expect(rows[1]?.note).toContain("does not export a measure function");
    expect(rows[2]?.note).toBe("failed: sample too small");
    expect(messages).toHaveLength(3);
  });
});

describe("ratioOf", () => {
  const row = { id: "x", label: "x", unit: "ms", baselineLabel: "y" };

  it("divides ours by baseline when higher is better", () => {
    expect(ratioOf({ ...row, koalaReplay: 300, baseline: 100, higherIsBetter: true })).toBe(3);
  });

  it("divides baseline by ours when lower is better", () => {
    expect(ratioOf({ ...row, koalaReplay: 50, baseline: 100, higherIsBetter: false })).toBe(2);
  });

  it("returns null for a missing value", () => {
    expect(ratioOf({ ...row, koalaReplay: null, baseline: 100, higherIsBetter: false })).toBeNull();
  });
});
