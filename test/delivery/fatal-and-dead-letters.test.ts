import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkPublicKey, createDelivery, DEAD_LETTER_MARKER, readDeadLetterLine } from "../../src/delivery/index.js";
import { InvalidDeadLetterLineError } from "../../src/delivery/dead-letter.js";
import type { DeadLetterEvent, FatalCause } from "../../src/delivery/options.js";
import { maskPublicKey, maskSecret, stringifyWithSecretMasked } from "../../src/reporting/mask.js";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { makeEntry, makeRecords, TEST_KEY, temporaryDirectory, testOptions } from "./helpers.js";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("wrong key", () => {
  it("stops within seconds with a fatal result", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const folder = temporaryDirectory();
    const statePath = join(folder, "state.json");
    const fatalCauses: FatalCause[] = [];
    const wrongKey = "pk_wrong_key_0000000000";
    const delivery = createDelivery(
      testOptions(emulator.url, {
        publicKey: wrongKey,
        statePath,
        inputs: ["events.jsonl"],
        cwd: folder,
        maxBatchSize: 2,
        events: { onFatal: (cause) => fatalCauses.push(cause) },
      }),
    );
    const startedAt = Date.now();
    const entries = makeRecords(10_000, 100);
    let submitted = 0;
    for (const entry of entries) {
      if (delivery.isStopped()) {
        break;
      }
      await delivery.submit(entry.origin, [entry]);
      submitted += 1;
      if (submitted % 100 === 0) {
        // A pipeline reading files yields to I/O between chunks, and without that no response could arrive.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const result = await delivery.finish();

    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(result.fatal?.reason).toBe("unauthorized");
    expect(result.fatal?.status).toBe(401);
    expect(result.fatal?.probeStatus).toBe(401);
    expect(result.fatal?.message).toContain("pk_w****");
    expect(result.fatal?.message).not.toContain(wrongKey);
    expect(fatalCauses).toHaveLength(1);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.delivered).toBe(0);
    expect(submitted).toBeLessThan(10_000);
    expect(emulator.accepted.size).toBe(0);
    const authProbes = emulator.requests.filter((request) => request.path.endsWith("/auth"));
    expect(authProbes).toHaveLength(1);

    const state = readFileSync(statePath, "utf8");
    expect(state).not.toContain(wrongKey);
    expect(JSON.parse(state).inputs[join(folder, "events.jsonl")].watermark).toBe(0);
  });

  it.each([407, 415, 431])("%i on every request stops the run", async (status) => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: status } });
    const folder = temporaryDirectory();
    const delivery = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["events.jsonl"], deadLetterPath: join(folder, "dead.jsonl") }));
    const records = makeRecords(200, 20);

    for (const entry of records) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    // Dead-lettering would put every entry of the archive in the file, one request each.
    expect(result.fatal?.status).toBe(status);
    expect(result.fatal?.message).toContain(`returned ${status}`);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBeGreaterThan(0);
    expect(emulator.stats.batchRequests).toBeLessThan(20);
  });

  it("checkPublicKey reports valid and invalid keys", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });

    expect(await checkPublicKey(emulator.url, TEST_KEY, "koala-replay/test")).toEqual({ ok: true, status: 200 });
    const invalid = await checkPublicKey(emulator.url, "pk_other_key_123456", "koala-replay/test");
    expect(invalid.ok).toBe(false);
    expect(invalid).toMatchObject({ status: 401 });
    expect(JSON.stringify(invalid)).not.toContain("pk_other_key_123456");
  });
});

describe("dead letters", () => {
  it("400 on one entry dead-letters it alone", async () => {
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      faults: { rejectEntry: (entry) => entry.poison === true },
    });
    const folder = temporaryDirectory();
    const deadLetterPath = join(folder, "dead.jsonl");
    const deadLetters: DeadLetterEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, { deadLetterPath, cwd: folder, events: { onDeadLetter: (event) => deadLetters.push(event) } }),
    );
    const person = { email: "ada@example.com", traits: {} };
    const entries = Array.from({ length: 20 }, (_, index) =>
      makeEntry(person, `m${index}`, { input: "events.jsonl", line: index + 1 }, "events", index === 13 ? { poison: true } : {}),
    );
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.delivered).toBe(19);
    expect(result.deadLettered).toEqual({ "rejected-by-api": 1 });
    expect(emulator.accepted.size).toBe(19);
    expect(emulator.accepted.has("m13")).toBe(false);
    expect(deadLetters.map((event) => event.entry.messageId)).toEqual(["m13"]);
    expect(result.deadLetterPath).toBe(deadLetterPath);

    expect(statSync(deadLetterPath).mode & 0o777).toBe(0o600);
    const lines = readFileSync(deadLetterPath, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(line[DEAD_LETTER_MARKER]).toBe(1);
    expect(line).toMatchObject({
      reason: "rejected-by-api",
      status: 400,
      attempts: 1,
      source: { input: "events.jsonl", line: 14 },
      mapping: "Track Event",
      messageId: "m13",
      kind: "events",
      person: { email: "ada@example.com", traits: {} },
      event: { type: "track", messageId: "m13" },
    });
    expect(String(line.response)).toContain("Invalid entry");
  });

  it("endless error body is read only for its excerpt", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { endlessErrorBody: true } });
    const deadLetters: DeadLetterEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, { maxAttempts: 1, timeoutMs: 10_000, events: { onDeadLetter: (event) => deadLetters.push(event) } }),
    );
    const entry = makeEntry({ email: "ada@example.com", traits: {} }, "endless-1", { input: "events.jsonl", line: 1 });
    const startedAt = performance.now();

    await delivery.submit(entry.origin, [entry]);
    const result = await delivery.finish();

    // Read to its end, the body would keep the request open until the 10 s timeout, and fill memory meanwhile.
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(result.deadLetteredTotal).toBe(1);
    expect(deadLetters[0]?.status).toBe(500);
    expect(deadLetters[0]?.responseExcerpt).toMatch(/^<p>Internal error<\/p>/);
  });

  it("accepted key is not probed per 401", async () => {
    let authProbes = 0;
    let batches = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        if (request.url?.endsWith("/auth")) {
          authProbes += 1;
          response.writeHead(200).end("{}");
          return;
        }
        batches += 1;
        response.writeHead(401).end('{"error":"unauthorized"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const delivery = createDelivery(testOptions(url, { maxAttempts: 3, cwd: temporaryDirectory() }));
      for (const entry of makeRecords(20, 20)) {
        await delivery.submit(entry.origin, [entry]);
      }
      const result = await delivery.finish();

      expect(result.fatal).toBeUndefined();
      expect(result.deadLetteredTotal).toBe(20);
      expect(batches).toBeGreaterThanOrEqual(20 * 3);
      expect(authProbes).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("dead-letter line reads back as the entry", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { rejectEntry: () => true } });
    const folder = temporaryDirectory();
    const deadLetterPath = join(folder, "dead.jsonl");
    const delivery = createDelivery(testOptions(emulator.url, { deadLetterPath, cwd: folder }));
    const original = makeEntry(
      { profile_id: "p-1", email: "ada@example.com", traits: { plan: "pro", seats: 3 }, ip: "10.0.0.1" },
      "m-1",
      { input: "events.jsonl", line: 7 },
      "identifies",
      { traits: { plan: "pro" }, sent_at: "2026-01-01T00:00:00.000Z" },
    );
    await delivery.submit(original.origin, [original]);
    await delivery.finish();

    const line = JSON.parse(readFileSync(deadLetterPath, "utf8")) as unknown;
    expect(readDeadLetterLine(line)).toEqual(original);
  });

  it("numeric profile_id reads back unchanged", () => {
    const line = {
      [DEAD_LETTER_MARKER]: 1,
      kind: "events",
      person: { profile_id: 42, traits: { plan: "pro" } },
      entry: { type: "track", event: "Signed Up", message_id: "m-42" },
      messageId: "m-42",
      mapping: "Track Event",
      source: { input: "events.jsonl", line: 3 },
      event: { type: "track" },
    };

    const entry = readDeadLetterLine(line);

    expect(entry?.personKey).toBe('{"profile_id":42,"traits":{"plan":"pro"}}');
    expect(entry?.person.profile_id).toBe(42);
  });

  it("readDeadLetterLine ignores ordinary events", () => {
    expect(readDeadLetterLine({ type: "track", messageId: "m1" })).toBeUndefined();
    expect(readDeadLetterLine("text")).toBeUndefined();
    expect(readDeadLetterLine(null)).toBeUndefined();
  });

  it("readDeadLetterLine rejects a broken line", () => {
    expect(() => readDeadLetterLine({ [DEAD_LETTER_MARKER]: 1, kind: "events" })).toThrow(InvalidDeadLetterLineError);
    expect(() => readDeadLetterLine({ [DEAD_LETTER_MARKER]: 1, kind: "pages" })).toThrow(/"kind"/);
  });
});

describe("maskPublicKey", () => {
  it("shows at most four characters", () => {
    expect(maskPublicKey("pk_abcdef1234567890")).toBe("pk_a****");
    expect(maskPublicKey("pk_abcdefgh")).toBe("pk_****");
    expect(maskPublicKey("")).toBe("****");
  });

  it.each([
    ["ab", "****"],
    ["abc", "a****"],
    ["short", "s****"],
    ["pk_test", "pk****"],
    ["pk_abcdefgh", "pk_****"],
    ["pk_abcdefghi", "pk_a****"],
  ])("short key %s shows a third at most: %s", (key, masked) => {
    expect(maskPublicKey(key)).toBe(masked);
  });

  it("maskSecret replaces every occurrence", () => {
    const key = "pk_abcdef1234567890";
    expect(maskSecret(`/web/projects/${key}/batch and ${key}`, key)).toBe("/web/projects/pk_a****/batch and pk_a****");
    expect(maskSecret("key a/b+c= used", "a/b+c=")).toBe("key a/**** used");
    expect(maskSecret("x/a%2Fb%2Bc%3D/y", "a/b+c=")).toBe("x/a/****/y");
  });

  it.each([
    ["lower-case percent escapes", "/web/projects/pk%2blive%2fKEY%3d%3d0123456789/batch"],
    ["some characters decoded", "/web/projects/pk+live%2FKEY%3D%3D0123456789/batch"],
    ["JSON-escaped slash", '{"path":"/web/projects/pk+live\\/KEY==0123456789/batch"}'],
    ["JSON unicode escapes", '{"path":"/web/projects/pk\\u002blive\\u002FKEY==0123456789/batch"}'],
  ])("maskSecret masks the key echoed with %s", (_form, echoed) => {
    const masked = maskSecret(echoed, "pk+live/KEY==0123456789");

    expect(masked).toContain("pk+l****");
    expect(masked).not.toMatch(/0123456789/);
  });

  it("maskSecret masks a key with quotes in JSON", () => {
    const key = 'pk_live"SECRET\\0123456789';
    const masked = maskSecret(JSON.stringify({ path: `/web/projects/${key}/batch` }), key);

    expect(masked).toBe('{"path":"/web/projects/pk_l****/batch"}');
  });

  it("maskSecret masks a key with a space sent as +", () => {
    expect(maskSecret("key=pk_live+SECRET+0123456789&x=1", "pk_live SECRET 0123456789")).toBe("key=pk_l****&x=1");
  });

  it("short key spares the words around", () => {
    expect(maskSecret('{"maxRps":null,"key":"x","url":"/projects/x/batch"}', "x")).toBe('{"maxRps":null,"key":"****","url":"/projects/****/batch"}');
    expect(maskSecret("pk_long_key_123 in pk_long_key_1234", "pk_long_key_123")).toBe("pk_l**** in pk_l****4");
    expect(maskSecret("nothing here", undefined)).toBe("nothing here");
  });

  it.each([
    ["20 events read from events.jsonl", "20 events read from events.jsonl"],
    ["POST http://h/web/projects/events/batch", "POST http://h/web/projects/ev****/batch"],
    ["/x?key=events&y=1", "/x?key=ev****&y=1"],
    ['{"key":"events","kind":"events"}', '{"key":"ev****","kind":"ev****"}'],
    ["/web/projects%2Fevents%2Fbatch", "/web/projects%2Fev****%2Fbatch"],
  ])("word key masks only a whole segment: %s", (text, masked) => {
    expect(maskSecret(text, "events")).toBe(masked);
  });

  it("one-letter key spares file names", () => {
    expect(maskSecret("send a.jsonl to /web/projects/a/batch", "a")).toBe("send a.jsonl to /web/projects/****/batch");
  });

  it("report JSON keeps names a short key equals", () => {
    const report = { counts: { invalid: 0 }, fatal: { message: "POST /web/projects/invalid/batch returned 401" } };

    expect(JSON.parse(stringifyWithSecretMasked(report, "invalid"))).toEqual({ counts: { invalid: 0 }, fatal: { message: "POST /web/projects/in****/batch returned 401" } });
    expect(JSON.parse(stringifyWithSecretMasked({ ["pk_live_0123456789"]: "pk_live_0123456789" }, "pk_live_0123456789"))).toEqual({ "pk_l****": "pk_l****" });
  });
});

describe("public key", () => {
  it("never appears in files, events or results", async () => {
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      faults: { rejectEntry: (entry) => entry.poison === true, serverErrorRate: 0.2, echoPathInErrors: true },
    });
    const folder = temporaryDirectory();
    const statePath = join(folder, "state.json");
    const deadLetterPath = join(folder, "dead.jsonl");
    const emitted: unknown[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        cwd: folder,
        statePath,
        deadLetterPath,
        inputs: ["events.jsonl"],
        maxAttempts: 2,
        events: {
          onRequestSent: (event) => emitted.push(event),
          onRetry: (event) => emitted.push(event),
          onDeadLetter: (event) => emitted.push(event),
          onFatal: (cause) => emitted.push(cause),
        },
      }),
    );
    const person = { email: "ada@example.com", traits: {} };
    for (let line = 1; line <= 60; line += 1) {
      const entry = makeEntry(person, `m${line}`, { input: "events.jsonl", line }, "events", line % 7 === 0 ? { poison: true } : {});
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.deadLetteredTotal).toBeGreaterThan(0);
    const deadLetters = readFileSync(deadLetterPath, "utf8");
    expect(deadLetters).toContain("/web/projects/pk_t****/batch");
    expect(deadLetters).not.toContain(TEST_KEY);
    expect(readFileSync(statePath, "utf8")).not.toContain(TEST_KEY);
    expect(JSON.stringify(emitted)).not.toContain(TEST_KEY);
    expect(JSON.stringify(result)).not.toContain(TEST_KEY);
  });
});

describe("unwritable files", () => {
  it("dead-letter failure ends the run", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { rejectEntry: () => true } });
    const folder = temporaryDirectory();
    const statePath = join(folder, "state.json");
    // A folder where the dead-letter file should be: opening it for appending fails.
    const deadLetterPath = temporaryDirectory();
    const delivery = createDelivery(testOptions(emulator.url, { cwd: folder, statePath, deadLetterPath, inputs: ["events.jsonl"] }));
    const entry = makeEntry({ email: "ada@example.com", traits: {} }, "m1", { input: "events.jsonl", line: 1 });
    await delivery.submit(entry.origin, [entry]);
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("dead-letter-write-failed");
    expect(result.fatal?.message).toContain(deadLetterPath);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(1);
    expect(JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, "events.jsonl")].notDone).toEqual([1]);
  });

  it("checkpoint failure keeps delivering", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const folder = temporaryDirectory();
    writeFileSync(join(folder, "not-a-folder"), "");
    const errors: string[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        cwd: folder,
        statePath: join(folder, "not-a-folder", "state.json"),
        inputs: ["events.jsonl"],
        events: { onCheckpointError: (_path, message) => errors.push(message) },
      }),
    );
    for (const entry of makeRecords(20, 2)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.delivered).toBe(20);
    expect(result.checkpointErrors).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/EEXIST|ENOTDIR/);
  });
});
