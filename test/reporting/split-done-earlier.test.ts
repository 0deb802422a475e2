import { describe, expect, test } from "vitest";
import { RunStats } from "../../src/reporting/run-stats.js";

/** Returns the stats of a resume that skipped `done` events as done by earlier runs. */
function resumeStats(done: number, readToEnd: boolean): RunStats {
  const stats = new RunStats();
  stats.countSkipped("already-delivered", done);
  stats.inputsReadToEnd = readToEnd;
  return stats;
}

describe("RunStats.splitDoneEarlier", () => {
  test("inputs read to the end: exact split", () => {
    const stats = resumeStats(10, true);
    stats.splitDoneEarlier(4);

    expect(stats.skippedByReason.get("already-delivered")).toBe(6);
    expect(stats.skippedByReason.get("skipped-earlier")).toBe(4);
    expect(stats.skippedByReason.has("done-earlier")).toBe(false);
  });

  test("every done event skipped earlier", () => {
    const stats = resumeStats(3, true);
    stats.splitDoneEarlier(3);

    expect(stats.skippedByReason.has("already-delivered")).toBe(false);
    expect(stats.skippedByReason.get("skipped-earlier")).toBe(3);
  });

  test("run stopped before the end: one row", () => {
    const stats = resumeStats(10, false);
    stats.splitDoneEarlier(4);

    expect(stats.skippedByReason.get("done-earlier")).toBe(10);
    expect(stats.skippedByReason.has("already-delivered")).toBe(false);
    expect(stats.skippedByReason.has("skipped-earlier")).toBe(false);
  });

  test("older checkpoint without the count: one row", () => {
    const stats = resumeStats(10, true);
    stats.splitDoneEarlier(undefined);

    expect(stats.skippedByReason.get("done-earlier")).toBe(10);
  });

  test("count above the done events: one row", () => {
    const stats = resumeStats(2, true);
    stats.splitDoneEarlier(5);

    expect(stats.skippedByReason.get("done-earlier")).toBe(2);
  });

  test("nothing done earlier: nothing added", () => {
    const stats = new RunStats();
    stats.inputsReadToEnd = true;
    stats.splitDoneEarlier(0);

    expect(stats.skippedByReason.size).toBe(0);
  });
});
