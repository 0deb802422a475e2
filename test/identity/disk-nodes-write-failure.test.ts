import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { projectRoot } from "../helpers/run-cli.js";

// A disk that fills up while node records are written. The file-size limit of the shell (`ulimit
// -f`, in blocks of 512 bytes in POSIX sh) makes write(2) write the first bytes of a record and
// report success, and fail with EFBIG only on the next call, as a full disk does with ENOSPC.
// SIGXFSZ is ignored so that the process gets the error instead of being killed. The built
// DiskNodes runs in a child process, because the limit applies to a whole process.

const RECORD_BYTES = 48;
/** 1,600 blocks: room for the 786,432-byte index file, and a limit that cuts a node record in two. */
const LIMIT_BLOCKS = 1600;
const LIMIT_BYTES = LIMIT_BLOCKS * 512;

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-disk-nodes-"));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

interface ChildOutcome {
  added: number;
  name: string;
  message: string;
  hint: string;
}

/** Runs the ES module `script` under a file-size limit of `blocks` × 512 bytes and returns its JSON output. */
function runWithFileLimit<T>(script: string, blocks = LIMIT_BLOCKS): T {
  const result = spawnSync("sh", ["-c", `trap "" XFSZ; ulimit -f ${blocks}; exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: "utf8" });
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

/** Adds nodes until an add throws, under the file-size limit, and returns how many were added and the error. */
function addUntilFailure(): ChildOutcome {
  const moduleUrl = pathToFileURL(join(projectRoot, "dist/identity/disk-nodes.js")).href;
  const script = `
    const { DiskNodes } = await import(${JSON.stringify(moduleUrl)});
    const nodes = new DiskNodes(${JSON.stringify(directory)}, 0);
    const key = new Uint32Array(2);
    let added = 0;
    try {
      for (;;) {
        key[0] = added; key[1] = added * 2654435761;
        nodes.add(key);
        added += 1;
      }
    } catch (error) {
      process.stdout.write(JSON.stringify({ added, name: error.name, message: error.message, hint: error.hint }));
    }
  `;
  return runWithFileLimit<ChildOutcome>(script);
}

describe("DiskNodes write that fails part-way", () => {
  test("add of the cut-short record fails", () => {
    const outcome = addUntilFailure();

    expect(outcome.added).toBe(Math.floor(LIMIT_BYTES / RECORD_BYTES));
  });

  test("error names the file and the fix", () => {
    const outcome = addUntilFailure();

    expect(outcome.name).toBe("IdentityGraphWriteError");
    expect(outcome.message).toMatch(/^the identity graph could not be written to .*koala-replay-identity-[^/]+\/nodes\.bin \(EFBIG/);
    expect(outcome.hint).toBe(
      `free space on the disk of ${directory}, or set TMPDIR to a folder on a disk with more free space: ` +
        "the first pass keeps the ids that do not fit in memory in temporary files there",
    );
  });

  test("index file too large for the limit", () => {
    const moduleUrl = pathToFileURL(join(projectRoot, "dist/identity/disk-nodes.js")).href;
    const script = `
      const { DiskNodes } = await import(${JSON.stringify(moduleUrl)});
      try {
        new DiskNodes(${JSON.stringify(directory)}, 0);
        process.stdout.write(JSON.stringify({ name: "none" }));
      } catch (error) {
        process.stdout.write(JSON.stringify({ name: error.name, message: error.message }));
      }
    `;

    // The empty index file is sized at once to 786,432 bytes, more than one block.
    const outcome = runWithFileLimit<{ name: string; message: string }>(script, 1);

    expect(outcome.name).toBe("IdentityGraphWriteError");
    expect(outcome.message).toMatch(/\/index\.bin \(EFBIG/);
    expect(readdirSync(directory)).toEqual([]);
  });

  test("temporary files are deleted at exit", () => {
    addUntilFailure();

    expect(readdirSync(directory)).toEqual([]);
  });
});

describe("first pass whose graph write fails", () => {
  // 20,000 events with a userId and an anonymousId each make 40,000 nodes: more than fit under the limit.
  function writeEvents(): string {
    const path = join(directory, "events.jsonl");
    const lines = Array.from({ length: 20_000 }, (_, index) =>
      JSON.stringify({ type: "identify", userId: `u${index}`, anonymousId: `a${index}`, timestamp: "2024-01-01T00:00:00.000Z", traits: { email: `p${index}@example.com` } }),
    );
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  }

  test("error stops the pass", () => {
    const events = writeEvents();
    const moduleUrl = pathToFileURL(join(projectRoot, "dist/pipeline/identity-pass.js")).href;
    const script = `
      const { buildIdentityGraph } = await import(${JSON.stringify(moduleUrl)});
      const sources = [{ path: ${JSON.stringify(events)} }];
      const options = { readOptions: {}, warn: () => {}, graph: { maxMemoryEntries: 10, spillDirectory: ${JSON.stringify(directory)} } };
      try {
        const graph = await buildIdentityGraph(sources, options);
        process.stdout.write(JSON.stringify({ name: "none", ids: graph.stats().idsWithEmail }));
      } catch (error) {
        process.stdout.write(JSON.stringify({ name: error.name }));
      }
    `;

    const outcome = runWithFileLimit<{ name: string }>(script);

    expect(outcome.name).toBe("IdentityGraphWriteError");
  });
});
