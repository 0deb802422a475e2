import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { IdentityGraph, loadIdentities, type IdentitiesFileProblem } from "../../src/identity/index.js";
import { eventWithMessageId, fixturePath, readEvents } from "./fixtures.js";

const graphs: IdentityGraph[] = [];

function newGraph(): IdentityGraph {
  const graph = new IdentityGraph();
  graphs.push(graph);
  return graph;
}

afterEach(() => {
  for (const graph of graphs.splice(0)) graph.close();
});

describe("CSV identities file", () => {
  it("warehouse users export by id column", async () => {
    const graph = newGraph();
    const result = await loadIdentities(fixturePath("users-export.csv"), graph);

    expect(result.format).toBe("csv");
    expect(graph.resolveId("u-200")).toBe("grace@example.com");
    expect(graph.resolveId(4242)).toBe("numeric@example.com");
    expect(graph.resolveId("u-804")).toBe("mary@example.com");
  });

  it("counts rows, identities and bad rows", async () => {
    const result = await loadIdentities(fixturePath("users-export.csv"), newGraph());

    expect(result.rows).toBe(8);
    expect(result.identities).toBe(3);
    expect(result.rowsWithoutEmail).toBe(1);
    expect(result.badRows).toBe(4);
  });

  it("reports bad rows with their line", async () => {
    const reported: IdentitiesFileProblem[] = [];
    const result = await loadIdentities(fixturePath("users-export.csv"), newGraph(), {
      onProblem: (problem) => reported.push(problem),
    });

    expect(reported.map((problem) => problem.line)).toEqual([4, 5, 6, 8]);
    expect(result.problems).toEqual(reported);
    expect(reported[0]!.message).toMatch(/users-export\.csv:4: row has 5 cells where the header has 4/);
    expect(reported[1]!.message).toMatch(/invalid email "not-an-email"/);
    expect(reported[2]!.message).toMatch(/has an email but no userId or anonymousId/);
    expect(reported[3]!.message).toMatch(/unreadable time "yesterday"/);
  });

  it("skips a row that is not UTF-8", async () => {
    // Row 3 is Latin-1. Row 2 contains U+FFFD written as UTF-8, which is text and not damage.
    const bytes = Buffer.concat([
      Buffer.from("\uFEFFuser_id,email\r\nu1,\uFFFD@example.com\r\nu2,jos"),
      Buffer.from([0xe9]),
      Buffer.from("@example.com\r\nu3,ana@example.com\r\n"),
    ]);
    const graph = newGraph();
    const result = await loadIdentities(Readable.from([bytes]), graph, { name: "latin1.csv" });

    expect(result.problems.map((problem) => problem.line)).toEqual([3]);
    expect(result.problems[0]!.message).toContain("latin1.csv:3: row contains bytes that are not UTF-8 text");
    expect(result.identities).toBe(2);
    expect(graph.resolveEmail({ userId: "u2" })).toBeUndefined();
    expect(graph.resolveEmail({ userId: "u1" })).toBe("\uFFFD@example.com");
    expect(graph.resolveEmail({ userId: "u3" })).toBe("ana@example.com");
  });

  it("reports a row with misplaced quotes", async () => {
    const text = 'user_id,email\nu1,"a@example.com"x\nu2,b@example.com\nu3,c"d@example.com\nu4,e@example.com\n';
    const reported: IdentitiesFileProblem[] = [];
    const graph = newGraph();
    const result = await loadIdentities(Readable.from([Buffer.from(text)]), graph, { name: "quotes.csv", onProblem: (problem) => reported.push(problem) });

    expect(reported.map((problem) => problem.line)).toEqual([2, 4]);
    expect(reported[0]!.message).toContain("quotes.csv:2: row has a misplaced double quote in cell 2 (text after the cell's closing quote)");
    expect(reported[1]!.message).toContain("(a quote in a cell that is not quoted)");
    expect(result.identities).toBe(2);
    expect(graph.resolveEmail({ userId: "u4" })).toBe("e@example.com");
    expect(graph.resolveEmail({ userId: "u1" })).toBeUndefined();
  });

  it("reports an email with a display name", async () => {
    const text = 'user_id,email\nu1,Three <three@example.com>\nu2,two words@example.com\nu3,three@example.com\n';
    const reported: IdentitiesFileProblem[] = [];
    const graph = newGraph();
    const result = await loadIdentities(Readable.from([Buffer.from(text)]), graph, { name: "names.csv", onProblem: (problem) => reported.push(problem) });

    expect(reported.map((problem) => problem.line)).toEqual([2, 3]);
    expect(reported[0]!.message).toBe('names.csv:2: row has the email "Three <three@example.com>", which contains spaces or angle brackets: give the address alone, such as three@example.com. The row is skipped.');
    expect(reported[1]!.message).toContain("give the address alone. The row is skipped.");
    expect(result.identities).toBe(1);
    expect(graph.resolveEmail({ userId: "u1" })).toBeUndefined();
  });

  it("stops at an aborted signal", async () => {
    const rows = Array.from({ length: 10_000 }, (_, index) => `u${index},user${index}@example.com`);
    const controller = new AbortController();
    controller.abort();
    const graph = newGraph();
    const loading = loadIdentities(Readable.from([Buffer.from(`user_id,email\n${rows.join("\n")}\n`)]), graph, { signal: controller.signal });

    await expect(loading).rejects.toThrow(/aborted/);
    expect(graph.stats().emailObservations).toBe(0);
  });

  it("stops a read that waits for data at an abort", async () => {
    // A pipe that sent one row and stays open, as `--identities <(slow command)` would.
    const pipe = new PassThrough();
    pipe.write("user_id,email\nu1,a@example.com\n");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const loading = loadIdentities(pipe, newGraph(), { signal: controller.signal });

    await expect(loading).rejects.toThrow(/aborted/);
  }, 5_000);

  it("keeps at most maxProblemsKept problems", async () => {
    const result = await loadIdentities(fixturePath("users-export.csv"), newGraph(), { maxProblemsKept: 1 });
    expect(result.problems).toHaveLength(1);
    expect(result.badRows).toBe(4);
  });

  it("warehouse identifies export with quoted cells", async () => {
    const graph = newGraph();
    const result = await loadIdentities(fixturePath("warehouse-identifies.csv"), graph);
    expect(result.badRows).toBe(0);
    expect(graph.resolveId("3b7ec162500ba79785b1f7c4b8c7097d")).toBe("user01@example.com");
    expect(graph.resolveId("68be8f849becfeb08f7c26f6430c2977")).toBe("user04@example.com");
    expect(graph.resolveId("d0bdaa1ce0c93542e2208205d30d19b2")).toBeUndefined();
  });

  it("stitches warehouse tracks from identifies", async () => {
    const graph = newGraph();
    await loadIdentities(fixturePath("warehouse-identifies.csv"), graph);

    const stitched = [
      ["20e54d59ab471ea53c8ab2d1acca93eb", "7dbfb93c8a783b7c360862c283862b08", "user03@example.net"],
      ["68be8f849becfeb08f7c26f6430c2977", undefined, "user04@example.com"],
      ["c5f4bcbb53892d101da4cc9e3a3e0265", "3b7ec162500ba79785b1f7c4b8c7097d", "user01@example.com"],
      ["af5fb4e255688a6a8a4e728dc76bb34c", undefined, undefined],
    ] as const;
    for (const [anonymousId, userId, email] of stitched) {
      expect(graph.resolveEmail({ type: "track", anonymousId, userId })).toBe(email);
    }
  });

  it("rejects a header without id or email", async () => {
    const stream = Readable.from(["name,city\nAda,London\n"]);
    await expect(loadIdentities(stream, newGraph(), { format: "csv", name: "people.csv" })).rejects.toThrow(
      'identities file people.csv has no email column and no user_id, id or anonymous_id column in its header (found "name", "city")',
    );
  });

  it("reads mixed CRLF and LF endings", async () => {
    const graph = newGraph();
    const stream = Readable.from(["user_id,email\r\nu-1,one@example.com\nu-2,two@example.com\r\n"]);
    const result = await loadIdentities(stream, graph, { format: "csv" });
    expect(result.identities).toBe(2);
    expect(graph.resolveId("u-2")).toBe("two@example.com");
  });
});

describe("JSONL identities file", () => {
  it("reads userId, anonymous_id and traits.email", async () => {
    const graph = newGraph();
    await loadIdentities(fixturePath("identities.jsonl"), graph);

    expect(graph.resolveId("u-900")).toBe("annie@example.com");
    expect(graph.resolveId("anon-cc33")).toBe("frances@example.com");
    expect(graph.resolveId("901")).toBe("evelyn@example.com");
    expect(graph.resolveId("u-905")).toBe("radia@example.com");
  });

  it("skips a line that is not UTF-8", async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"userId":"u1","email":"\uFFFD@example.com"}\n{"userId":"u2","email":"jos'),
      Buffer.from([0xe9]),
      Buffer.from('@example.com"}\n{"userId":"u3","email":"ana@example.com"}\n'),
    ]);
    const graph = newGraph();
    const result = await loadIdentities(Readable.from([bytes]), graph, { name: "latin1.jsonl" });

    expect(result.format).toBe("jsonl");
    expect(result.problems.map((problem) => problem.line)).toEqual([2]);
    expect(result.problems[0]!.message).toContain("latin1.jsonl:2: row contains bytes that are not UTF-8 text");
    expect(result.identities).toBe(2);
    expect(graph.resolveEmail({ userId: "u2" })).toBeUndefined();
    expect(graph.resolveEmail({ userId: "u3" })).toBe("ana@example.com");
  });

  it("stops at an aborted signal", async () => {
    const lines = Array.from({ length: 10_000 }, (_, index) => JSON.stringify({ userId: `u${index}`, email: `user${index}@example.com` }));
    const controller = new AbortController();
    controller.abort();
    const graph = newGraph();
    const loading = loadIdentities(Readable.from([Buffer.from(`${lines.join("\n")}\n`)]), graph, { signal: controller.signal });

    await expect(loading).rejects.toThrow(/aborted/);
    expect(graph.stats().emailObservations).toBe(0);
  });

  it("counts and reports bad lines", async () => {
    const result = await loadIdentities(fixturePath("identities.jsonl"), newGraph());

    expect(result.format).toBe("jsonl");
    expect(result.rows).toBe(8);
    expect(result.identities).toBe(4);
    expect(result.rowsWithoutEmail).toBe(1);
    expect(result.badRows).toBe(3);
    expect(result.problems.map((problem) => problem.line)).toEqual([4, 6, 7]);
    expect(result.problems[0]!.message).toMatch(/:4: row is not valid JSON/);
    expect(result.problems[1]!.message).toMatch(/:6: row is not a JSON object/);
  });

  it("detects JSONL in a stream", async () => {
    const graph = newGraph();
    const result = await loadIdentities(createReadStream(fixturePath("identities.jsonl")), graph);
    expect(result.format).toBe("jsonl");
    expect(graph.resolveId("u-900")).toBe("annie@example.com");
  });

  it("detects CSV in a stream", async () => {
    const result = await loadIdentities(createReadStream(fixturePath("users-export.csv")), newGraph());
    expect(result.format).toBe("csv");
    expect(result.identities).toBe(3);
  });
});

/** Yields `bytes` in pieces of `sizes`, one after the other, and the rest in one piece, as a pipe may deliver it. */
function inPieces(bytes: Buffer, sizes: readonly number[]): Readable {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const size of sizes) {
    pieces.push(bytes.subarray(start, start + size));
    start += size;
  }
  pieces.push(bytes.subarray(start));
  return Readable.from(pieces);
}

describe("identities file read in small pieces", () => {
  const jsonl = `${JSON.stringify({ userId: "u1", email: "one@example.com" })}\n${JSON.stringify({ anonymousId: "a2", email: "two@example.com" })}\n`;
  const csv = "user_id,email\nu1,one@example.com\nu2,two@example.com\n";

  it.each([
    ["gzip JSONL", gzipSync(jsonl), "jsonl"],
    ["gzip CSV", gzipSync(csv), "csv"],
    ["JSONL", Buffer.from(jsonl), "jsonl"],
  ] as const)("%s with a first piece of 1 byte", async (_name, bytes, format) => {
    const graph = newGraph();
    const result = await loadIdentities(inPieces(bytes, [1, 1, 3]), graph);

    expect(result.format).toBe(format);
    expect(result.identities).toBe(2);
    expect(graph.resolveId("u1")).toBe("one@example.com");
  });

  it("JSONL after blank lines in their own pieces", async () => {
    const result = await loadIdentities(inPieces(Buffer.from(`\n  \n${jsonl}`), [1, 2, 1]), newGraph());

    expect(result.format).toBe("jsonl");
    expect(result.identities).toBe(2);
  });

  it("empty stream reads as CSV without rows", async () => {
    await expect(loadIdentities(Readable.from([]), newGraph())).resolves.toMatchObject({ format: "csv", rows: 0 });
  });
});

describe("JSONL identities line size", () => {
  /** Yields a first line, then a line of `megabytes` MiB without a line break in 1 MiB pieces, then `after`. */
  async function* longLine(megabytes: number, after: string): AsyncGenerator<Buffer> {
    yield Buffer.from(`${JSON.stringify({ userId: "u1", email: "one@example.com" })}\n`);
    const piece = Buffer.alloc(1024 * 1024, 0x78);
    for (let index = 0; index < megabytes; index++) yield piece;
    yield Buffer.from(after);
  }

  it("line over 32 MiB skipped, later lines read", async () => {
    const graph = newGraph();
    const after = `\n${JSON.stringify({ userId: "u3", email: "three@example.com" })}\n`;
    const result = await loadIdentities(Readable.from(longLine(40, after)), graph, { format: "jsonl", name: "people.jsonl" });

    expect(result.badRows).toBe(1);
    expect(result.problems[0]!.line).toBe(2);
    expect(result.problems[0]!.message).toBe(
      "people.jsonl:2: row is 40 MiB long, more than the 32 MiB a line may have, so it was not held in memory; check that the file is JSON Lines, one object a line. The row is skipped.",
    );
    expect(graph.resolveId("u1")).toBe("one@example.com");
    expect(graph.resolveId("u3")).toBe("three@example.com");
    expect(result.identities).toBe(2);
  });

  it("line over 32 MiB at the end reported", async () => {
    const result = await loadIdentities(Readable.from(longLine(33, "")), newGraph(), { format: "jsonl" });

    expect(result.badRows).toBe(1);
    expect(result.problems[0]!.line).toBe(2);
    expect(result.identities).toBe(1);
  });

  it("CRLF line endings read", async () => {
    const text = `${JSON.stringify({ userId: "u1", email: "one@example.com" })}\r\n\r\n${JSON.stringify({ userId: "u2", email: "two@example.com" })}\r\n`;
    const result = await loadIdentities(Readable.from([Buffer.from(text)]), newGraph(), { format: "jsonl" });

    expect(result.identities).toBe(2);
    expect(result.badRows).toBe(0);
  });
});

describe("identities file with the first pass", () => {
  it("row without time beats archive emails", async () => {
    const graph = newGraph();
    graph.observe({ type: "identify", userId: "4242", traits: { email: "archived@example.com" }, timestamp: "2030-01-01T00:00:00Z" });
    await loadIdentities(fixturePath("users-export.csv"), graph);

    expect(graph.resolveId("4242")).toBe("numeric@example.com");
    expect(graph.stats().conflicts).toBe(1);
  });

  it("timed row competes by time", async () => {
    const graph = newGraph();
    graph.observe({ type: "identify", userId: "u-200", traits: { email: "grace.h@example.com" }, timestamp: "2024-06-01T00:00:00Z" });
    await loadIdentities(fixturePath("users-export.csv"), graph);

    expect(graph.resolveId("u-200")).toBe("grace.h@example.com");
  });

  it("resolves archive tracks from the file alone", async () => {
    const graph = newGraph();
    await loadIdentities(fixturePath("users-export.csv"), graph);
    const server = readEvents("server-tracks.jsonl");

    expect(graph.resolveEmail(eventWithMessageId(server, "api-1001"))).toBe("grace@example.com");
    expect(graph.resolveEmail(eventWithMessageId(server, "api-1002"))).toBe("numeric@example.com");
  });
});

describe("unreadable identities file", () => {
  it("missing file names the path", async () => {
    await expect(loadIdentities("/nonexistent/identities.csv", newGraph())).rejects.toThrow(
      "identities file not found: /nonexistent/identities.csv",
    );
  });

  it("directory is rejected", async () => {
    const directory = mkdtempSync(join(tmpdir(), "identities-test-"));
    try {
      await expect(loadIdentities(directory, newGraph(), { format: "csv" })).rejects.toThrow("--identities names a directory");
      await expect(loadIdentities(directory, newGraph())).rejects.toThrow("--identities names a directory");
    } finally {
      rmSync(directory, { recursive: true });
    }
  });
});
