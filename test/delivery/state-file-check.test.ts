import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CannotResumeError, createDelivery } from "../../src/delivery/index.js";
import { findStateFileProblem } from "../../src/delivery/state-file-check.js";
import { makeRecords, temporaryDirectory, testOptions } from "./helpers.js";

const INPUT = "/data/events.jsonl";
const HASH = "0123456789abcdef";
const SHA_256 = "a".repeat(64);

/** A state file as the current version writes it, with every field set. */
function fullState(): Record<string, any> {
  return {
    version: 2,
    savedAt: "2024-05-01T10:00:00.000Z",
    finished: false,
    entrySettingsHash: HASH,
    entrySettingHashes: { mappings: HASH, filters: HASH },
    endpoint: "https://api2.getkoala.com",
    publicKeySha256: HASH,
    publicKeyMasked: "pk_…1234",
    publicKeyRejected: true,
    identityGraph: { idsWithEmail: 12, digest: HASH },
    identityGraphWarned: HASH,
    deadLetterFile: { path: "/data/dead-letters.jsonl", bytes: 120 },
    deadLetteredEntries: 2,
    deadLetterFiles: [
      { path: "/data/first.dead-letters.jsonl", entries: 1, bytes: 300, resentEntries: 1, resentBy: "/data/state-resend.json" },
      { path: "/data/dead-letters.jsonl", entries: 1, bytes: 120 },
    ],
    inputs: {
      [INPUT]: {
        fingerprint: { size: 2048, mtimeMs: 1714557600000.5, headTailSha256: SHA_256 },
        doneThrough: 40,
        watermark: 6,
        notDone: [7, 30],
        deadLettered: { "7": ["entry-key"] },
        delivered: { "30": ["Track Event\nmessage-30"] },
        readByFinishedRun: false,
        noIdentityEvents: 2,
        doneWithoutEntries: 3,
        deadLetteredEntries: 1,
      },
    },
  };
}

function problemOf(state: unknown): ReturnType<typeof findStateFileProblem> {
  return findStateFileProblem(state, 1, 2);
}

describe("state file check", () => {
  test("full current state passes", () => {
    expect(problemOf(fullState())).toBeUndefined();
  });

  test("older state with optional fields missing passes", () => {
    const state = { version: 1, inputs: { "events.jsonl": { doneThrough: 3, notDone: [] } } };

    expect(problemOf(state)).toBeUndefined();
  });

  test("state with null endpoint and fingerprint passes", () => {
    const state = fullState();
    state["endpoint"] = null;
    state["inputs"][INPUT].fingerprint = null;

    expect(problemOf(state)).toBeUndefined();
  });

  const input = `$.inputs["${INPUT}"]`;
  const cases: Array<{ name: string; edit: (state: Record<string, any>) => void; path: string; found: string | undefined }> = [
    { name: "notDone beyond doneThrough", edit: (state) => (state["inputs"][INPUT].notDone = [1e9, -1, "x"]), path: `${input}.notDone[0]`, found: "1000000000" },
    { name: "negative notDone line", edit: (state) => (state["inputs"][INPUT].notDone = [-1]), path: `${input}.notDone[0]`, found: "-1" },
    { name: "zero notDone line", edit: (state) => (state["inputs"][INPUT].notDone = [7, 0]), path: `${input}.notDone[1]`, found: "0" },
    { name: "text notDone line", edit: (state) => (state["inputs"][INPUT].notDone = ["x"]), path: `${input}.notDone[0]`, found: '"x"' },
    { name: "fractional notDone line", edit: (state) => (state["inputs"][INPUT].notDone = [7.5]), path: `${input}.notDone[0]`, found: "7.5" },
    { name: "notDone not an array", edit: (state) => (state["inputs"][INPUT].notDone = "7"), path: `${input}.notDone`, found: '"7"' },
    { name: "notDone missing", edit: (state) => delete state["inputs"][INPUT].notDone, path: `${input}.notDone`, found: undefined },
    { name: "negative doneThrough", edit: (state) => (state["inputs"][INPUT].doneThrough = -1), path: `${input}.doneThrough`, found: "-1" },
    { name: "unsafe doneThrough", edit: (state) => (state["inputs"][INPUT].doneThrough = 2 ** 60), path: `${input}.doneThrough`, found: String(2 ** 60) },
    { name: "text watermark", edit: (state) => (state["inputs"][INPUT].watermark = "6"), path: `${input}.watermark`, found: '"6"' },
    { name: "deadLetterFile a number", edit: (state) => (state["deadLetterFile"] = 42), path: "$.deadLetterFile", found: "42" },
    { name: "deadLetterFile relative path", edit: (state) => (state["deadLetterFile"].path = "dead.jsonl"), path: "$.deadLetterFile.path", found: '"dead.jsonl"' },
    { name: "deadLetterFile negative bytes", edit: (state) => (state["deadLetterFile"].bytes = -5), path: "$.deadLetterFile.bytes", found: "-5" },
    { name: "deadLetteredEntries a string", edit: (state) => (state["deadLetteredEntries"] = "2"), path: "$.deadLetteredEntries", found: '"2"' },
    { name: "deadLetterFiles an object", edit: (state) => (state["deadLetterFiles"] = {}), path: "$.deadLetterFiles", found: "{}" },
    { name: "deadLetterFiles relative path", edit: (state) => (state["deadLetterFiles"][1].path = "dead.jsonl"), path: "$.deadLetterFiles[1].path", found: '"dead.jsonl"' },
    { name: "deadLetterFiles missing entries", edit: (state) => delete state["deadLetterFiles"][0].entries, path: "$.deadLetterFiles[0].entries", found: undefined },
    { name: "deadLetterFiles more resent than entries", edit: (state) => (state["deadLetterFiles"][0].resentEntries = 2), path: "$.deadLetterFiles[0].resentEntries", found: "2" },
    { name: "deadLetterFiles relative resentBy", edit: (state) => (state["deadLetterFiles"][0].resentBy = "state.json"), path: "$.deadLetterFiles[0].resentBy", found: '"state.json"' },
    { name: "input deadLetteredEntries negative", edit: (state) => (state["inputs"][INPUT].deadLetteredEntries = -1), path: `${input}.deadLetteredEntries`, found: "-1" },
    { name: "identityGraph a string", edit: (state) => (state["identityGraph"] = "x"), path: "$.identityGraph", found: '"x"' },
    { name: "identityGraph short digest", edit: (state) => (state["identityGraph"].digest = "abc"), path: "$.identityGraph.digest", found: '"abc"' },
    { name: "identityGraph negative count", edit: (state) => (state["identityGraph"].idsWithEmail = -1), path: "$.identityGraph.idsWithEmail", found: "-1" },
    { name: "entrySettingsHash uppercase", edit: (state) => (state["entrySettingsHash"] = HASH.toUpperCase()), path: "$.entrySettingsHash", found: `"${HASH.toUpperCase()}"` },
    { name: "entrySettingHashes bad member", edit: (state) => (state["entrySettingHashes"].mappings = 1), path: "$.entrySettingHashes.mappings", found: "1" },
    { name: "publicKeySha256 not hex", edit: (state) => (state["publicKeySha256"] = "zzzzzzzzzzzzzzzz"), path: "$.publicKeySha256", found: '"zzzzzzzzzzzzzzzz"' },
    { name: "endpoint a number", edit: (state) => (state["endpoint"] = 8080), path: "$.endpoint", found: "8080" },
    { name: "publicKeyRejected a string", edit: (state) => (state["publicKeyRejected"] = "yes"), path: "$.publicKeyRejected", found: '"yes"' },
    { name: "finished a number", edit: (state) => (state["finished"] = 1), path: "$.finished", found: "1" },
    { name: "savedAt a number", edit: (state) => (state["savedAt"] = 5), path: "$.savedAt", found: "5" },
    { name: "identityGraphWarned a number", edit: (state) => (state["identityGraphWarned"] = 5), path: "$.identityGraphWarned", found: "5" },
    { name: "fingerprint short hash", edit: (state) => (state["inputs"][INPUT].fingerprint.headTailSha256 = HASH), path: `${input}.fingerprint.headTailSha256`, found: `"${HASH}"` },
    { name: "fingerprint negative size", edit: (state) => (state["inputs"][INPUT].fingerprint.size = -1), path: `${input}.fingerprint.size`, found: "-1" },
    { name: "deadLettered bad line", edit: (state) => (state["inputs"][INPUT].deadLettered = { x: ["k"] }), path: `${input}.deadLettered.x`, found: '"x"' },
    { name: "deadLettered number key", edit: (state) => (state["inputs"][INPUT].deadLettered = { "7": [3] }), path: `${input}.deadLettered["7"][0]`, found: "3" },
    { name: "delivered an array", edit: (state) => (state["inputs"][INPUT].delivered = ["k"]), path: `${input}.delivered`, found: '["k"]' },
    { name: "delivered line zero", edit: (state) => (state["inputs"][INPUT].delivered = { "0": ["k"] }), path: `${input}.delivered["0"]`, found: '"0"' },
    { name: "delivered keys a string", edit: (state) => (state["inputs"][INPUT].delivered = { "30": "k" }), path: `${input}.delivered["30"]`, found: '"k"' },
    { name: "delivered number key", edit: (state) => (state["inputs"][INPUT].delivered = { "30": ["k", null] }), path: `${input}.delivered["30"][1]`, found: "null" },
    { name: "noIdentityEvents negative", edit: (state) => (state["inputs"][INPUT].noIdentityEvents = -2), path: `${input}.noIdentityEvents`, found: "-2" },
    { name: "doneWithoutEntries fractional", edit: (state) => (state["inputs"][INPUT].doneWithoutEntries = 0.5), path: `${input}.doneWithoutEntries`, found: "0.5" },
    { name: "readByFinishedRun a string", edit: (state) => (state["inputs"][INPUT].readByFinishedRun = "no"), path: `${input}.readByFinishedRun`, found: '"no"' },
    { name: "input not an object", edit: (state) => (state["inputs"][INPUT] = [1]), path: input, found: "[1]" },
    { name: "inputs an array", edit: (state) => (state["inputs"] = []), path: "$.inputs", found: "[]" },
    { name: "fractional version", edit: (state) => (state["version"] = 1.5), path: "$.version", found: "1.5" },
  ];

  test.each(cases)("$name rejected", ({ edit, path, found }) => {
    const state = fullState();
    edit(state);

    const problem = problemOf(state);

    expect(problem?.path).toBe(path);
    expect(problem?.found).toBe(found);
  });

  test("long value shortened", () => {
    const state = fullState();
    state["savedAt"] = ["x".repeat(200)];

    expect(problemOf(state)?.found).toHaveLength(61);
  });
});

describe("resume from invalid state file", () => {
  function resumeWith(edit: (state: Record<string, any>) => void): { statePath: string; resume: () => unknown } {
    const folder = temporaryDirectory();
    writeFileSync(join(folder, "events.jsonl"), makeRecords(3, 1).map((entry) => entry.eventJson).join("\n"));
    const state = fullState();
    state["inputs"] = { [join(folder, "events.jsonl")]: { fingerprint: null, doneThrough: 3, watermark: 3, notDone: [] } };
    delete state["endpoint"];
    edit(state);
    const statePath = join(folder, "state.json");
    writeFileSync(statePath, JSON.stringify(state));
    const resume = (): unknown => createDelivery(testOptions("http://127.0.0.1:9", { cwd: folder, inputs: ["events.jsonl"], statePath, resume: true }));
    return { statePath, resume };
  }

  test("message names path, rule and value", () => {
    const { statePath, resume } = resumeWith((state) => (state["deadLetterFile"] = 42));

    expect(resume).toThrow(CannotResumeError);
    expect(resume).toThrow(
      `the checkpoint ${statePath} is not a valid koala-replay state file: $.deadLetterFile must be an object with "path" and "bytes", found 42`,
    );
  });

  test("missing field named as missing", () => {
    const { resume } = resumeWith((state) => {
      const input = Object.values(state["inputs"])[0] as Record<string, unknown>;
      delete input["doneThrough"];
    });

    expect(resume).toThrow(/\.doneThrough must be a non-negative safe integer \(the last line done\), it is missing$/);
  });

  test("hint gives --restart and --state", () => {
    const { resume } = resumeWith((state) => (state["identityGraph"] = "x"));

    let hint: string | undefined;
    try {
      resume();
    } catch (error) {
      hint = (error as CannotResumeError).hint;
    }
    expect(hint).toContain("run with --restart to start over and replace it");
    expect(hint).toContain("--state <path> to keep it");
  });

  test("older state without optional fields resumes", async () => {
    const { resume } = resumeWith((state) => {
      for (const name of Object.keys(state)) {
        if (name !== "version" && name !== "inputs") {
          delete state[name];
        }
      }
    });

    const delivery = resume() as { finish(): Promise<unknown> };

    expect(delivery).toBeDefined();
    await delivery.finish();
  });
});
