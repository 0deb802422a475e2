import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Stitching gives an event without an email the email of an identify call found anywhere in the
// inputs. A resume over inputs with more identify calls skips the events that the earlier run
// found no email for, so it must warn that they stay unsent.

const KEY = "pk_resume_identity_0123456789";
const TRACKS = join(projectRoot, "fixtures/identity/server-tracks.jsonl");
const IDENTIFIES = join(projectRoot, "fixtures/identity/identify-elsewhere.jsonl");

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-identity-"));
  mkdirSync(join(directory, "in"));
  copyFileSync(TRACKS, join(directory, "in", "tracks.jsonl"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(args: readonly string[] = []): ReturnType<typeof runCli> {
  return runCli(["send", "--endpoint", emulator.url, ...args, "in"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

function readState(): Record<string, unknown> {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  return JSON.parse(readFileSync(join(directory, ".koala-replay", name), "utf8")) as Record<string, unknown>;
}

describe("resume with new identify calls", () => {
  test("state file counts no-identity events", async () => {
    const first = await send();
    const state = readState();
    const inputs = state["inputs"] as Record<string, { noIdentityEvents: number }>;

    expect(first.stderr).toMatch(/no-identity\s+3/);
    expect(Object.values(inputs).map((input) => input.noIdentityEvents)).toEqual([3]);
    expect(state["identityGraph"]).toMatchObject({ idsWithEmail: 1, digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  test("file added to the folder warns", async () => {
    await send();
    copyFileSync(IDENTIFIES, join(directory, "in", "identifies.jsonl"));
    const resumed = await send(["--resume"]);
    const message = unwrapSummary(resumed.stderr);

    expect(resumed.status).toBe(0);
    expect(message).toContain("skipped 3 events as no-identity (no email or profile_id), and --resume does not read them again");
    expect(message).toContain("links 3 userIds and anonymousIds to an email, and theirs linked 1");
    expect(message).toContain("run with --restart in place of --resume");
    expect(message).toMatch(/3 events skipped as no-identity by earlier runs not read again/);
    expect(emulator.accepted.has("events:api-1001")).toBe(false);
  });

  test("warning printed once per graph", async () => {
    await send();
    copyFileSync(IDENTIFIES, join(directory, "in", "identifies.jsonl"));
    const first = await send(["--resume"]);
    const again = await send(["--resume"]);
    const restarted = await send(["--restart"]);
    const afterRestart = await send(["--resume"]);

    expect(unwrapSummary(first.stderr)).toContain("skipped 3 events as no-identity");
    expect(unwrapSummary(again.stderr)).not.toContain("skipped 3 events as no-identity");
    expect(unwrapSummary(again.stderr)).toMatch(/3 events skipped as no-identity by earlier runs not read again, though this graph may give them an email: --restart sends them/);
    expect(restarted.status).toBe(0);
    expect([...emulator.accepted.keys()].filter((key) => key.includes("api-1001") || key.includes("api-1002"))).toHaveLength(2);
    expect(afterRestart.stderr).not.toContain("as no-identity (no email");
  });

  test("same identify calls resume quietly", async () => {
    await send();
    const resumed = await send(["--resume"]);

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("as no-identity (no email");
  });

  test("another graph warns again", async () => {
    await send();
    copyFileSync(IDENTIFIES, join(directory, "in", "identifies.jsonl"));
    await send(["--resume"]);
    const otherGraph = await send(["--resume", "--identities", join(projectRoot, "fixtures/identity/users-export.csv")]);

    expect(unwrapSummary(otherGraph.stderr)).toContain("skipped 3 events as no-identity");
  });

  test("other --identities file warns", async () => {
    await send();
    const resumed = await send(["--resume", "--identities", join(projectRoot, "fixtures/identity/users-export.csv")]);

    expect(unwrapSummary(resumed.stderr)).toContain("skipped 3 events as no-identity");
  });
});
