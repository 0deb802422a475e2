import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";

// The built CLI with a public key that cannot be a Koala key, as the placeholder of a printed
// command: it stops with exit status 2 before any request.

const KEY = "pk_emulator_0123456789";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function writeEvent(directory: string): string {
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${JSON.stringify({ type: "track", event: "Key Test", messageId: "key-1", userId: "u1", context: { traits: { email: "u1@example.com" } }, timestamp: "2024-05-01T10:00:00.000Z" })}\n`);
  return path;
}

describe("public key format", () => {
  test.each<[string, string, string]>([
    ["placeholder of a printed command", "<public key>", "replace the placeholder with your Koala public key"],
    ["masked placeholder", "<pub****", "replace the placeholder with your Koala public key"],
    ["masked key", "pk_e****", "give the whole key"],
    ["key with a space", "pk_emulator 0123456789", "without quotes or spaces"],
    ["key with a zero-width space", "pk_emulator\u200B0123456789", "invisible character U+200B (zero-width space) at position 12"],
    ["key with a trailing zero-width space", "pk_emulator_0123456789\u200B", "invisible character U+200B (zero-width space) at position 23"],
    ["key with a byte order mark", "pk_emulator\uFEFF0123456789", "invisible character U+FEFF (byte order mark)"],
    ["key with a no-break space", "pk_emulator\u00A00123456789", "invisible character U+00A0 (no-break space)"],
    ["key with a word joiner", "pk_emulator\u20600123456789", "invisible character U+2060 (word joiner)"],
    ["key with a Hangul filler", "pk_emulator\u31640123456789", "invisible character U+3164"],
    ["key of one dot", ".", "a key of only dots would change the path of the request URL"],
    ["key of two dots", "..", "a key of only dots would change the path of the request URL"],
  ])("send rejects %s", async (_name, key, hint) => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-key-"));
    const input = writeEvent(directory);

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", key, "--state", join(directory, "state.json"), input], { cwd: directory, env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: invalid public key");
    expect(result.stderr).toContain(hint);
    expect(emulator.stats.requests).toBe(0);
  });

  test("--public-key without its value takes no input for a key", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-key-"));
    writeEvent(directory);

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", "events.jsonl"], { cwd: directory, env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("in --public-key: it looks like an input file, not a key, so --public-key probably lacks its value");
    expect(emulator.stats.requests).toBe(0);
  });

  // `--public-key $KEY -` with KEY unset leaves `--public-key -`: the stdin input became the key, and
  // the run read stdin and stopped on Koala's 404 as if the key were wrong.
  test("--public-key without its value takes no stdin marker", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-key-"));
    const event = JSON.stringify({ type: "track", event: "Key Test", messageId: "key-stdin", context: { traits: { email: "u1@example.com" } }, timestamp: "2024-05-01T10:00:00.000Z" });

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", "-"], { cwd: directory, stdin: `${event}\n`, env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("in --public-key: it looks like an input file, not a key, so --public-key probably lacks its value");
    expect(emulator.stats.requests).toBe(0);
  });

  test("check rejects the placeholder", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });

    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", "<public key>"], { env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("replace the placeholder");
    expect(emulator.stats.requests).toBe(0);
  });

  test("send rejects an invisible character in KOALA_PUBLIC_KEY", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-key-"));
    const input = writeEvent(directory);

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), input], {
      cwd: directory,
      env: { KOALA_PUBLIC_KEY: `${KEY}\u200B`, COLUMNS: "500" },
    });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: invalid public key pk_e**** in KOALA_PUBLIC_KEY: it contains the invisible character U+200B (zero-width space)");
    expect(emulator.stats.requests).toBe(0);
  });

  test("check rejects an invisible character", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });

    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", `\u200B${KEY}`], { env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("invisible character U+200B (zero-width space) at position 1");
    expect(emulator.stats.requests).toBe(0);
  });

  test("send takes the emulator key", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-key-"));
    const input = writeEvent(directory);

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", KEY, "--state", join(directory, "state.json"), input], { cwd: directory });

    expect(result.status).toBe(0);
    expect(emulator.accepted.size).toBe(1);
  });
});
