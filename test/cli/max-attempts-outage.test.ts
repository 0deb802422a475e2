import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type EmulatorFaults, type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";

// Every attempt counts toward --max-attempts, but a request that runs out of attempts while Koala
// has an outage is held, and is dead-lettered only at its next failure once Koala responds. Its
// -v line then gives a count above the limit, and explains why.

const KEY = "pk_max_attempts_0123456789";

let directory: string | undefined;
let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (directory !== undefined) {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** Writes one event of each of two persons, so that their two requests fail together and start an outage. */
function writeEvents(folder: string): string {
  const lines = ["ada", "bob"].map((name) =>
    JSON.stringify({ type: "track", event: "Signed Up", messageId: `${name}-1`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `${name}@example.com` } } }),
  );
  const path = join(folder, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("--max-attempts during an outage", () => {
  test("dead letter after the outage explains its attempts", async () => {
    directory = mkdtempSync(join(tmpdir(), "koala-replay-max-attempts-"));
    const path = writeEvents(directory);
    // Koala returns 503 to everyone until both requests have made their 2 attempts: the first ones
    // and one test request each. Then it is back, but fails every request of ada's entry.
    const faults: EmulatorFaults = { batchStatus: 503 };
    const server = await startKoalaEmulator({
      publicKey: KEY,
      faults,
      onResponse: () => {
        if (server.stats.batchRequests >= 4 && faults.batchStatus !== undefined) {
          delete faults.batchStatus;
          faults.serverErrorEntry = (entry) => entry["message_id"] === "ada-1";
        }
      },
    });
    emulator = server;

    const result = await runCli(
      ["send", "-v", "--no-stitch", "--max-attempts", "2", "--endpoint", server.url, "--state", join(directory, "state.json"), "--dead-letter", join(directory, "dead.jsonl"), path],
      { env: { KOALA_PUBLIC_KEY: KEY } },
    );
    const line = result.stderr.split("\n").find((text) => text.startsWith("dead letter:")) ?? "";
    const attempts = Number(/after (\d+) attempts/.exec(line)?.[1]);

    expect(result.status).toBe(1);
    expect(server.accepted.has("bob-1")).toBe(true);
    expect(attempts).toBeGreaterThan(2);
    expect(line).toContain("(more than --max-attempts 2, because the request was held through an outage)");
    expect(result.stderr).toContain("the 2 attempts of --max-attempts are used up, so once Koala responds it is dead-lettered at its next failure");
  }, 60_000);
});
