import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A trial send to the emulator and a later `send --resume` to Koala find the same default
// checkpoint. Without a record of the destination, the resume skipped at Koala every event that
// the emulator had received.

const TRIAL_KEY = "pk_trial_emulator_0123456789";
const LIVE_KEY = "pk_live_destination_9876543210";

let directory: string;
let trial: KoalaEmulator;
let live: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-destination-"));
  trial = await startKoalaEmulator({ publicKey: TRIAL_KEY });
  live = await startKoalaEmulator({ publicKey: LIVE_KEY });
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `destination-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await trial.close();
  await live.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(endpoint: string, key: string, args: readonly string[] = []): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--endpoint", endpoint, ...args, "events.jsonl"], { env: { KOALA_PUBLIC_KEY: key }, cwd: directory });
}

function readState(): { path: string; text: string } {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  const path = join(directory, ".koala-replay", name);
  return { path, text: readFileSync(path, "utf8") };
}

describe("resume to another destination", () => {
  test("state file records endpoint, not key", async () => {
    await send(`${trial.url}/`, TRIAL_KEY);
    const { text } = readState();
    const state = JSON.parse(text) as Record<string, unknown>;

    expect(text).not.toContain(TRIAL_KEY);
    expect(state["endpoint"]).toBe(trial.url);
    expect(state["publicKeySha256"]).toMatch(/^[0-9a-f]{16}$/);
    expect(state["publicKeyMasked"]).toBe("pk_t****");
  });

  test("other endpoint stops before sending", async () => {
    const first = await send(trial.url, TRIAL_KEY);
    const resumed = await send(live.url, TRIAL_KEY, ["--resume"]);
    const message = unwrapSummary(resumed.stderr);

    expect(first.status).toBe(0);
    expect(trial.accepted.size).toBe(3);
    expect(resumed.status).toBe(2);
    expect(live.requests).toHaveLength(0);
    expect(message).toContain(`sent to ${trial.url}, and this run sends to ${live.url}`);
    expect(message).toContain("--restart in place of --resume");
    expect(message).toContain("--state <other path>");
  });

  test("other key stops before sending", async () => {
    await send(trial.url, TRIAL_KEY);
    const requestsBefore = trial.requests.length;
    const resumed = await send(trial.url, LIVE_KEY, ["--resume"]);
    const message = unwrapSummary(resumed.stderr);

    expect(resumed.status).toBe(2);
    expect(trial.requests).toHaveLength(requestsBefore);
    expect(message).toContain("with the public key pk_t****, and this run uses another one (pk_l****)");
    expect(resumed.stderr).not.toContain(LIVE_KEY);
    expect(resumed.stderr).not.toContain(TRIAL_KEY);
  });

  test("dry run warns of another endpoint", async () => {
    await send(trial.url, TRIAL_KEY);
    const dryRun = await runCli(["send", "--no-stitch", "--dry-run", "--resume", "events.jsonl"], { cwd: directory });
    const warning = unwrapSummary(dryRun.stderr);

    expect(dryRun.status).toBe(0);
    expect(parseRequests(dryRun.stdout)).toHaveLength(0);
    expect(warning).toContain(`is of a run that sent to ${trial.url}, and this run sends to https://api2.getkoala.com`);
    expect(warning).toContain("send --resume with these options stops before sending anything");
  });

  test("dry run without key resumes same endpoint", async () => {
    await send(trial.url, TRIAL_KEY);
    const dryRun = await runCli(["send", "--no-stitch", "--dry-run", "--resume", "--endpoint", trial.url, "events.jsonl"], { cwd: directory });

    expect(dryRun.status).toBe(0);
    expect(parseRequests(dryRun.stdout)).toHaveLength(0);
  });

  test("restart sends everything to the new one", async () => {
    await send(trial.url, TRIAL_KEY);
    const restarted = await send(live.url, LIVE_KEY, ["--restart"]);
    const resumed = await send(live.url, LIVE_KEY, ["--resume"]);

    expect(restarted.status).toBe(0);
    expect(live.accepted.size).toBe(3);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(readState().text)).toMatchObject({ endpoint: live.url, publicKeyMasked: "pk_l****" });
  });

  test("wrong key run resumes with the right key", async () => {
    const rejected = await send(trial.url, LIVE_KEY);
    const stateAfterRejection = JSON.parse(readState().text) as unknown;
    const resumed = await send(trial.url, TRIAL_KEY, ["--resume"]);

    expect(rejected.status).toBe(3);
    expect(stateAfterRejection).toMatchObject({ endpoint: null, finished: false });
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("cannot check");
    expect(trial.accepted.size).toBe(3);
  });

  test("state file of an older version resumes with a warning", async () => {
    await send(trial.url, TRIAL_KEY);
    const { path, text } = readState();
    const { endpoint: _endpoint, publicKeySha256: _hash, publicKeyMasked: _masked, ...older } = JSON.parse(text) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify(older));
    const resumed = await send(live.url, LIVE_KEY, ["--resume"]);
    const message = unwrapSummary(resumed.stderr);

    expect(resumed.status).toBe(0);
    expect(live.accepted.size).toBe(0);
    expect(message).toContain("which did not record the endpoint and public key, so --resume cannot check");
  });
});
