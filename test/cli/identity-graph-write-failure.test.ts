import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The identity graph keeps 4,000,000 ids in memory and writes the rest to temporary files in
// TMPDIR. An --identities file of a few more ids than that makes the run spill, and a file-size
// limit (`ulimit -f`, as a full disk) makes the first temporary file fail with EFBIG. The disk
// failed, not the command, so the run exits 74 (EX_IOERR) and not 2 (a usage error).
// NOTE: each run loads 4,000,000 ids, which took 11 s and 390 MB of memory (measured with
// /usr/bin/time on the 2-core machine the suite was written on).

const KEY = "pk_graph_write_0123456789";
const IDS_IN_MEMORY = 4_000_000;

let directory: string;
let emulator: KoalaEmulator;

/** Writes a gzip JSONL identities file of `count` ids, each with its own email. */
async function writeIdentities(path: string, count: number): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const finished = once(gzip.pipe(createWriteStream(path)), "finish");
  const rowsPerWrite = 10_000;
  for (let start = 0; start < count; start += rowsPerWrite) {
    const rows: string[] = [];
    for (let index = start; index < Math.min(count, start + rowsPerWrite); index += 1) {
      rows.push(`{"userId":"user-${index}","email":"person${index}@example.com"}`);
    }
    if (!gzip.write(`${rows.join("\n")}\n`)) {
      await once(gzip, "drain");
    }
  }
  gzip.end();
  await finished;
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-graph-write-"));
  mkdirSync(join(directory, "tmp"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  await writeIdentities(join(directory, "identities.jsonl.gz"), IDS_IN_MEMORY + 10);
  const event = { type: "track", event: "Clicked", messageId: "g-1", userId: "user-1", timestamp: "2024-01-01T00:00:00.000Z" };
  writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify(event)}\n`);
}, 60_000);

afterAll(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

describe("identity graph write failure", () => {
  test("send exits 74, sends nothing", async () => {
    const args = ["send", "--no-progress", "--endpoint", emulator.url, "--state", "state.json", "--identities", "identities.jsonl.gz", "events.jsonl"];
    const result = await runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY, TMPDIR: join(directory, "tmp") }, fileSizeLimitBlocks: 100 });
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(74);
    expect(stderr).toMatch(/error: the identity graph could not be written to \S+\/tmp\/koala-replay-identity-\w+\/index\.bin \(EFBIG/);
    expect(stderr).toContain("Nothing was sent, and the checkpoint was left as it was");
    expect(stderr).toContain(`free space on the disk of ${join(directory, "tmp")}, or set TMPDIR to a folder on a disk with more free space`);
    expect(stderr).toContain("then run the same command again");
    expect(emulator.stats.batchRequests).toBe(0);
    expect(existsSync(join(directory, "state.json"))).toBe(false);
    expect(readdirSync(join(directory, "tmp"))).toEqual([]);
  }, 180_000);

  test("inspect exits 74", async () => {
    const args = ["inspect", "--identities", "identities.jsonl.gz", "events.jsonl"];
    const result = await runCli(args, { cwd: directory, env: { TMPDIR: join(directory, "tmp") }, fileSizeLimitBlocks: 100 });

    expect(result.status).toBe(74);
    expect(unwrapSummary(result.stderr)).toMatch(/error: the identity graph could not be written to \S+\/index\.bin \(EFBIG/);
  }, 180_000);
});
