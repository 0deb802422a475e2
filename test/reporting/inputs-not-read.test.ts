import { describe, expect, test } from "vitest";
import { formatInputsNotRead } from "../../src/reporting/inputs-not-read.js";

const STATE = ".koala-replay/state-0123456789abcdef.json";

describe("formatInputsNotRead", () => {
  test("one input with undelivered events", () => {
    const text = formatInputsNotRead(STATE, [{ path: "/data/b.jsonl", undeliveredEvents: 12, readToEnd: true }]);

    expect(text).toBe(
      `the checkpoint ${STATE} names an input that this run does not read, because it was removed or not given: /data/b.jsonl (12 undelivered). ` +
        "12 events of it that earlier runs read were neither delivered nor dead-lettered. This run does not send them. Give it again with --resume to send them.",
    );
  });

  test("one input a stopped run read", () => {
    const text = formatInputsNotRead(STATE, [{ path: "/data/b.jsonl", undeliveredEvents: 1, readToEnd: false }]);

    expect(text).toContain(": /data/b.jsonl (1 undelivered, last read by a stopped run). ");
    expect(text).toContain("1 event of it that earlier runs read was neither delivered nor dead-lettered.");
    expect(text).toContain("The run that last read it stopped before its end, so it may also hold events that were never read.");
    expect(text).toContain("Give it again with --resume to send them.");
  });

  test("one input left with nothing to send", () => {
    const text = formatInputsNotRead(STATE, [{ path: "/data/b.jsonl", undeliveredEvents: 0, readToEnd: true }]);

    expect(text).toContain(": /data/b.jsonl. The runs that read it delivered or dead-lettered every event of it, so none is left to send.");
    expect(text).not.toContain("--resume");
  });

  test("several inputs: totals, and the most undelivered listed first", () => {
    const inputs = [
      { path: "/data/a.jsonl", undeliveredEvents: 0, readToEnd: true },
      { path: "/data/b.jsonl", undeliveredEvents: 0, readToEnd: false },
      { path: "/data/c.jsonl", undeliveredEvents: 1_500, readToEnd: true },
      { path: "/data/d.jsonl", undeliveredEvents: 2, readToEnd: true },
      { path: "/data/e.jsonl", undeliveredEvents: 0, readToEnd: true },
      { path: "/data/f.jsonl", undeliveredEvents: 0, readToEnd: true },
      { path: "/data/g.jsonl", undeliveredEvents: 0, readToEnd: true },
    ];
    const text = formatInputsNotRead(STATE, inputs);

    expect(text).toContain("names 7 inputs that this run does not read, because they were removed or not given: ");
    expect(text).toContain(": /data/c.jsonl (1,500 undelivered), /data/d.jsonl (2 undelivered), /data/b.jsonl (last read by a stopped run), /data/a.jsonl, /data/e.jsonl and 2 more.");
    expect(text).toContain("1,502 events of them that earlier runs read were neither delivered nor dead-lettered.");
    expect(text).toContain("1 of them was last read by a run that stopped before its end, so it may also hold events that were never read.");
    expect(text).toContain("Give them again with --resume to send them.");
  });

  test("several inputs, all read by stopped runs", () => {
    const text = formatInputsNotRead(STATE, [
      { path: "/data/a.jsonl", undeliveredEvents: 0, readToEnd: false },
      { path: "/data/b.jsonl", undeliveredEvents: 0, readToEnd: false },
    ]);

    expect(text).not.toContain("neither delivered");
    expect(text).toContain("The runs that last read them stopped before their end, so they may also hold events that were never read.");
  });

  test("some inputs read by stopped runs", () => {
    const text = formatInputsNotRead(STATE, [
      { path: "/data/a.jsonl", undeliveredEvents: 0, readToEnd: false },
      { path: "/data/b.jsonl", undeliveredEvents: 0, readToEnd: false },
      { path: "/data/c.jsonl", undeliveredEvents: 0, readToEnd: true },
    ]);

    expect(text).toContain("2 of them were last read by runs that stopped before their end, so those may also hold events that were never read.");
  });
});
