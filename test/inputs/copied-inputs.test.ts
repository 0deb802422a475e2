import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findCopiedInputs } from "../../src/inputs/copied-inputs.js";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-copied-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function write(name: string, content: string | Buffer): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

const EVENTS = '{"type":"track","messageId":"m-1"}\n{"type":"track","messageId":"m-2"}\n';

describe("findCopiedInputs", () => {
  test("gzip object and its decompressed copy", async () => {
    const copy = write("a.decompressed.jsonl", EVENTS);
    const object = write("a.gz", gzipSync(EVENTS));

    const copies = await findCopiedInputs([{ path: copy }, { path: object }]);

    expect(copies).toEqual([{ copy: object, original: copy, decompressed: true }]);
  });

  test("plain files, three of one content", async () => {
    const first = write("1.jsonl", EVENTS);
    const second = write("2.jsonl", EVENTS);
    const third = write("3.jsonl", EVENTS);

    const copies = await findCopiedInputs([{ path: first }, { path: second }, { path: third }]);

    expect(copies).toEqual([
      { copy: second, original: first, decompressed: false },
      { copy: third, original: first, decompressed: false },
    ]);
  });

  test("same size, other content", async () => {
    const first = write("1.jsonl", EVENTS);
    const second = write("2.jsonl", EVENTS.replace("m-1", "m-3"));

    expect(await findCopiedInputs([{ path: first }, { path: second }])).toEqual([]);
  });

  test("empty files and stdin are left out", async () => {
    const first = write("1.jsonl", "");
    const second = write("2.jsonl", "");
    const emptyGzip = write("3.gz", gzipSync(""));

    expect(await findCopiedInputs([{ path: first }, { path: second }, { path: emptyGzip }, { path: "-", readOnce: "standard input" }])).toEqual([]);
  });

  test("broken gzip is left out", async () => {
    const plain = write("a.jsonl", EVENTS);
    const gzip = gzipSync(EVENTS);
    // The trailer still gives the size of the plain file, but the deflate data is damaged.
    gzip.fill(0xff, 10, 20);
    const broken = write("a.gz", gzip);

    expect(await findCopiedInputs([{ path: plain }, { path: broken }])).toEqual([]);
  });
});
