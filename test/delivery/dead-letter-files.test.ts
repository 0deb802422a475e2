import { describe, expect, test } from "vitest";
import { addRunDeadLetters, countUndeliveredEarlier, readDeadLetterFileRecords, resendStatePathOf } from "../../src/delivery/dead-letter-files.js";

describe("readDeadLetterFileRecords", () => {
  test("list read as written", () => {
    const files = [{ path: "/data/a.jsonl", entries: 2, bytes: 90, resentEntries: 2, resentBy: "/data/state-resend.json" }];

    expect(readDeadLetterFileRecords({ deadLetterFiles: files, deadLetteredEntries: 2, inputs: {} })).toEqual(files);
  });

  test.each([
    ["count against the last file", { deadLetteredEntries: 3, deadLetterFile: { path: "/data/b.jsonl", bytes: 300 } }, [{ path: "/data/b.jsonl", entries: 3, bytes: 300 }]],
    ["no dead letters", { deadLetteredEntries: 0, deadLetterFile: { path: "/data/b.jsonl", bytes: 300 } }, []],
    ["no count, empty file", { deadLetterFile: { path: "/data/b.jsonl", bytes: 0 } }, []],
    ["no count, lines in the file", { deadLetterFile: { path: "/data/b.jsonl", bytes: 300 } }, undefined],
    ["count without a file", { deadLetteredEntries: 3 }, undefined],
  ] as const)("state without the list: %s", (_name, fields, expected) => {
    expect(readDeadLetterFileRecords({ ...fields, inputs: {} })).toEqual(expected);
  });
});

describe("addRunDeadLetters", () => {
  const earlier = [{ path: "/data/a.jsonl", entries: 2, bytes: 90, resentEntries: 2, resentBy: "/data/state-resend.json" }];

  test("new file added after the others", () => {
    expect(addRunDeadLetters(earlier, { path: "/data/b.jsonl", bytes: 40 }, 1)).toEqual([...earlier, { path: "/data/b.jsonl", entries: 1, bytes: 40 }]);
  });

  test("same file: count and length grow", () => {
    expect(addRunDeadLetters(earlier, { path: "/data/a.jsonl", bytes: 150 }, 1)).toEqual([{ ...earlier[0], entries: 3, bytes: 150 }]);
  });

  test("no dead letters: records unchanged", () => {
    expect(addRunDeadLetters(earlier, { path: "/data/b.jsonl", bytes: 40 }, 0)).toEqual(earlier);
  });

  test("earlier records not changed in place", () => {
    addRunDeadLetters(earlier, { path: "/data/a.jsonl", bytes: 150 }, 1);

    expect(earlier[0]?.entries).toBe(2);
  });
});

describe("countUndeliveredEarlier", () => {
  test("files listed: their undelivered entries", () => {
    const files = [
      { path: "/data/a.jsonl", entries: 2, undelivered: 0, status: "resent" as const },
      { path: "/data/b.jsonl", entries: 3, undelivered: 3, status: "not-resent" as const },
    ];

    expect(countUndeliveredEarlier({ entries: 5, files })).toBe(3);
  });

  test("no list: every entry", () => {
    expect(countUndeliveredEarlier({ entries: 5 })).toBe(5);
  });

  test("not counted: undefined", () => {
    expect(countUndeliveredEarlier({ entries: undefined })).toBeUndefined();
  });
});

describe("resendStatePathOf", () => {
  test.each([
    ["trial/state.json", "trial/state-resend.json"],
    ["/data/state-resend.json", "/data/state-resend-resend.json"],
  ])("%s", (statePath, expected) => {
    expect(resendStatePathOf(statePath)).toBe(expected);
  });
});
