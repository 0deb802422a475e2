import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { deadLetterResendCommand, nextReportPath, rerunCommand, resumeCommand, resumeFromStateCommand, withoutResumeCommand } from "../../src/cli/rerun-commands.js";
import { toolCommand, type Invocation } from "../../src/cli/tool-command.js";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, projectRoot, runCli, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// npx and `npm exec` (npm 10.9 and 11.19) start the tool with npm_command=exec in its environment.
const NPX = { npm_command: "exec" };

/** Matches `koala-replay <word>` not preceded by `npx `: a command that fails after a local npm install. */
const BARE_COMMAND = /(?<!npx )koala-replay [a-z-]/;

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-commands-"));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

describe("printed commands under npx", () => {
  test("init hint starts with npx", async () => {
    const result = await runCli(["init"], { cwd: directory, env: NPX });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("npx koala-replay check");
    expect(result.stdout).toContain("npx koala-replay preview");
    expect(result.stdout).not.toMatch(BARE_COMMAND);
  });


  test("error hints and advice start with npx", async () => {
    const missingConfig = await runCli(["check", "--config", "missing.json"], { cwd: directory, env: NPX });
    const missingInput = await runCli(["send", "--dry-run", "missing.jsonl"], { cwd: directory, env: NPX });
    const eventOnly = await runCli(["check", "--event", '{"type":"track"}'], { cwd: directory, env: NPX });

    expect(missingConfig.stderr).toContain("npx koala-replay init missing.json");
    expect(missingConfig.stderr).not.toMatch(BARE_COMMAND);
    expect(missingInput.stderr).toContain("npx koala-replay send --help");
    expect(missingInput.stderr).not.toMatch(BARE_COMMAND);
    expect(unwrapSummary(eventOnly.stdout)).toContain("npx koala-replay preview FILE");
  });

  test("help examples start with npx", async () => {
    for (const command of ["send", "preview", "inspect", "check", "init"]) {
      const result = await runCli([command, "--help"], { env: NPX });
      const examples = result.stdout.slice(result.stdout.indexOf("Examples:"));

      expect(examples, command).toContain(`npx koala-replay ${command}`);
      expect(examples, command).not.toMatch(BARE_COMMAND);
    }
  });

  test("resume hint after a fatal stop starts with npx", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test_0123456789abcdef" });
    const input = join(directory, "events.jsonl");
    writeFileSync(input, `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), input], {
      cwd: directory,
      env: { ...NPX, KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" },
    });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`npx koala-replay send --no-stitch --endpoint ${emulator.url}`);
    expect(result.stderr).toMatch(/npx koala-replay send .* --resume\n/);
    expect(result.stderr).not.toMatch(BARE_COMMAND);
  });
});

/** Runs `command` with `args` as a shell would find it on `PATH`, in `cwd`. */
function runFromPath(command: string, args: readonly string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** Makes `folder` contain a `koala-replay` link to the built binary, as a global or local npm install does. */
function linkBinary(folder: string): void {
  mkdirSync(folder, { recursive: true });
  symlinkSync(binPath, join(folder, "koala-replay"));
}

describe("printed commands run with node", () => {
  test("error hint names node and the script", async () => {
    const result = await runCli(["send", "--dry-run", "missing.jsonl"]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("run node bin/koala-replay.js send --help for the inputs it accepts");
    expect(result.stderr).not.toMatch(BARE_COMMAND);
  });

  test("script outside the folder: absolute path", async () => {
    const result = await runCli(["init"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`check them with:\n    node ${binPath} check\n`);
    expect(result.stdout).not.toMatch(BARE_COMMAND);
  });

  test("node options come along", async () => {
    const result = await runFromPath(process.execPath, ["--max-old-space-size=512", binPath, "send", "--dry-run", "missing.jsonl"], projectRoot, { PATH: process.env["PATH"] ?? "" });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("run node --max-old-space-size=512 bin/koala-replay.js send --help");
  });

  test("resume command runs as printed", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test_0123456789abcdef" });
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    const env = { PATH: process.env["PATH"] ?? "" };
    const stopped = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" } });
    const resume = /after fixing it, resume with:\n {2}(.*)\n/.exec(stopped.stderr)?.[1];

    expect(stopped.status).toBe(3);
    expect(resume).toBe(`node ${binPath} send --no-stitch --endpoint ${emulator.url} --state state.json events.jsonl --resume`);

    const resumed = await runFromPath("sh", ["-c", resume as string], directory, { ...env, KOALA_PUBLIC_KEY: "pk_test_0123456789abcdef" });
    expect(resumed.stderr).not.toContain("error:");
    expect(resumed.status).toBe(0);
    expect(emulator.accepted.size).toBe(1);
  });

  test("resume command keeps the first report", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test_0123456789abcdef" });
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    const env = { PATH: process.env["PATH"] ?? "" };
    const stopped = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", "--report", "r1.json", "events.jsonl"], {
      cwd: directory,
      env: { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" },
    });
    const resume = /after fixing it, resume with:\n {2}(.*)\n/.exec(stopped.stderr)?.[1];

    expect(stopped.status).toBe(3);
    expect(resume).toBe(`node ${binPath} send --no-stitch --endpoint ${emulator.url} --state state.json --report r1-resume.json events.jsonl --resume`);

    const resumed = await runFromPath("sh", ["-c", resume as string], directory, { ...env, KOALA_PUBLIC_KEY: "pk_test_0123456789abcdef" });
    const firstReport = JSON.parse(readFileSync(join(directory, "r1.json"), "utf8")) as { exitStatus: number; options: { resume: boolean } };
    const resumedReport = JSON.parse(readFileSync(join(directory, "r1-resume.json"), "utf8")) as { exitStatus: number; options: { resume: boolean } };

    expect(resumed.status).toBe(0);
    expect(firstReport.exitStatus).toBe(3);
    expect(firstReport.options.resume).toBe(false);
    expect(resumedReport.exitStatus).toBe(0);
    expect(resumedReport.options.resume).toBe(true);
  });
});

describe("report path beside existing reports", () => {
  test("resume and restart commands skip taken names", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test_0123456789abcdef" });
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    writeFileSync(join(directory, "r1-resume.json"), "{}\n");
    writeFileSync(join(directory, "r1-rerun.json"), "{}\n");
    const args = ["send", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", "--report", "r1-resume.json", "events.jsonl"];
    const stopped = await runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" } });
    const resume = /after fixing it, resume with:\n {2}(.*)\n/.exec(stopped.stderr)?.[1];
    const refused = await runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: "pk_test_0123456789abcdef" } });

    expect(stopped.status).toBe(3);
    expect(resume).toBe(`node ${binPath} send --no-stitch --endpoint ${emulator.url} --state state.json --report r1-resume-2.json events.jsonl --resume`);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`    node ${binPath} send --no-stitch --endpoint ${emulator.url} --state state.json --report r1-rerun-2.json events.jsonl --restart\n`);
  });
});

describe("report path of printed commands", () => {
  test.each([
    ["r1.json", "resume", "r1-resume.json"],
    ["r1-resume.json", "resume", "r1-resume-2.json"],
    ["r1-resume-2.json", "resume", "r1-resume-3.json"],
    ["reports/r1.json", "rerun", "reports/r1-rerun.json"],
    ["./r1.json", "resume", "./r1-resume.json"],
    ["r1-resume.json", "rerun", "r1-rerun.json"],
    ["r1-rerun-2.json", "resume", "r1-resume.json"],
    ["r1-resume-rerun.json", "resume", "r1-resume.json"],
    ["report", "resume", "report-resume"],
  ] as const)("nextReportPath: %s for a %s", (reportPath, kind, expected) => {
    expect(nextReportPath(reportPath, kind, () => false)).toBe(expected);
  });

  test.each([
    ["r1.json", "resume", ["r1-resume.json"], "r1-resume-2.json"],
    ["r1.json", "resume", ["r1-resume.json", "r1-resume-2.json"], "r1-resume-3.json"],
    ["r1-resume.json", "rerun", ["r1-rerun.json"], "r1-rerun-2.json"],
    ["out/r1.json", "rerun", ["out/r1-rerun.json", "r1-rerun-2.json"], "out/r1-rerun-2.json"],
  ] as const)("nextReportPath: %s for a %s beside %j", (reportPath, kind, existing, expected) => {
    const taken = new Set<string>(existing);

    expect(nextReportPath(reportPath, kind, (path) => taken.has(path))).toBe(expected);
  });

  test("every rerun command gets its own report", () => {
    const argv = ["send", "--report", "r1.json", "events.jsonl", "--resume"];
    const command = toolCommand();

    expect(resumeCommand(argv)).toBe(`${command} send --report r1-resume.json events.jsonl --resume`);
    expect(rerunCommand("--restart", argv)).toBe(`${command} send --report r1-rerun.json events.jsonl --restart`);
    expect(resumeFromStateCommand("state.json", argv)).toBe(`${command} send --report r1-resume.json events.jsonl --resume --state state.json`);
    expect(withoutResumeCommand(argv)).toBe(`${command} send --report r1-rerun.json events.jsonl`);
    expect(resumeCommand(["send", "--report=out/r1.json", "events.jsonl"])).toBe(`${command} send --report=out/r1-resume.json events.jsonl --resume`);
  });

  test("every rerun command gets its own not-sent file", () => {
    const argv = ["send", "--not-sent", "skipped.ndjson", "events.jsonl", "--resume"];
    const command = toolCommand();

    expect(resumeCommand(argv)).toBe(`${command} send --not-sent skipped-resume.ndjson events.jsonl --resume`);
    expect(rerunCommand("--restart", argv)).toBe(`${command} send --not-sent skipped-rerun.ndjson events.jsonl --restart`);
    expect(resumeFromStateCommand("state.json", argv)).toBe(`${command} send --not-sent skipped-resume.ndjson events.jsonl --resume --state state.json`);
    expect(withoutResumeCommand(argv)).toBe(`${command} send --not-sent skipped-rerun.ndjson events.jsonl`);
    expect(resumeCommand(["send", "--not-sent=out/s.ndjson", "--report", "r.json", "events.jsonl"])).toBe(`${command} send --not-sent=out/s-resume.ndjson --report r-resume.json events.jsonl --resume`);
    expect(deadLetterResendCommand("dead.jsonl", argv)).toBe(`${command} send --not-sent skipped-resend.ndjson --no-stitch dead.jsonl`);
  });

  test("every rerun command keeps exclusions and config", () => {
    const options = ["--exclude-emails", "*@corp.com", "--exclude-emails=ceo@partner.example", "-c", "replay.json"];
    const kept = "--exclude-emails '*@corp.com' --exclude-emails=ceo@partner.example -c replay.json";
    const argv = ["send", ...options, "events.jsonl"];
    const command = toolCommand();

    expect(resumeCommand(argv)).toBe(`${command} send ${kept} events.jsonl --resume`);
    expect(rerunCommand("--restart", argv)).toBe(`${command} send ${kept} events.jsonl --restart`);
    expect(resumeFromStateCommand("state.json", argv)).toBe(`${command} send ${kept} events.jsonl --resume --state state.json`);
    expect(withoutResumeCommand(argv)).toBe(`${command} send ${kept} events.jsonl`);
    expect(deadLetterResendCommand("dead.jsonl", argv)).toBe(`${command} send ${kept} --no-stitch dead.jsonl`);
  });

  test("dead-letter resend gets its own report", () => {
    expect(deadLetterResendCommand("dead.jsonl", ["send", "--report", "r1.json", "events.jsonl"])).toBe(`${toolCommand()} send --report r1-resend.json --no-stitch dead.jsonl`);
  });
});

describe("printed commands run from the PATH", () => {
  test("init hint stays bare", async () => {
    const bin = join(directory, "bin");
    linkBinary(bin);
    const result = await runFromPath("koala-replay", ["init"], directory, { PATH: `${bin}${delimiter}${process.env["PATH"] ?? ""}` });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("check them with:\n    koala-replay check\n");
    expect(result.stdout).not.toContain("npx");
    expect(result.stdout).not.toContain("node ");
  });

  test("npm run: npx, because the PATH is npm's", async () => {
    const bin = join(directory, "node_modules", ".bin");
    linkBinary(bin);
    writeFileSync(join(directory, "package.json"), "{}\n");
    const env = { PATH: `${bin}${delimiter}${process.env["PATH"] ?? ""}`, npm_command: "run-script", npm_config_local_prefix: directory };
    const result = await runFromPath("koala-replay", ["send", "--dry-run", "missing.jsonl"], directory, env);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("run npx koala-replay send --help");
  });
});

describe("printed commands under npx --prefix", () => {
  const KEY = "pk_test_0123456789abcdef";
  const root = resolve(projectRoot);
  // One npm cache for the file, because npx links this checkout into it on the first run (about 6 s).
  let npmCache: string;

  beforeAll(() => {
    npmCache = mkdtempSync(join(tmpdir(), "koala-replay-npm-cache-"));
  });
  afterAll(() => {
    rmSync(npmCache, { recursive: true, force: true });
  });

  /**
   * Runs a shell command line, as a user pastes one, in `cwd`. npm runs offline with an unreachable
   * registry, so a command that npm does not resolve locally fails at once instead of looking
   * koala-replay up on the registry.
   */
  function runShell(commandLine: string, cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
    return runFromPath("sh", ["-c", commandLine], cwd, {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      npm_config_cache: npmCache,
      npm_config_offline: "true",
      npm_config_registry: "http://127.0.0.1:9/",
      npm_config_update_notifier: "false",
      ...env,
    });
  }


  test("error hint keeps --prefix and runs", async () => {
    const first = await runShell(`npx --prefix ${root} koala-replay send --dry-run missing.jsonl`, directory);
    const hint = /run (npx .*) for the inputs it accepts/.exec(unwrapSummary(first.stderr))?.[1];

    expect(first.status).toBe(2);
    expect(hint).toBe(`npx --prefix ${root} koala-replay send --help`);

    const second = await runShell(hint as string, directory);
    expect(second.stderr).toBe("");
    expect(second.stdout).toContain("Usage: koala-replay send");
    expect(second.status).toBe(0);
  }, 60_000);

  test("resume command keeps --prefix and resumes", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-05-01T10:00:00.000Z", userId: "u-1", context: { traits: { email: "a@example.com" } } })}\n`);
    const stopped = await runShell(`npx --prefix ${root} koala-replay send --no-stitch --endpoint ${emulator.url} --state state.json events.jsonl`, directory, { KOALA_PUBLIC_KEY: "pk_wrong_key_0000000000" });
    const resume = /after fixing it, resume with:\n {2}(.*)\n/.exec(stopped.stderr)?.[1];

    expect(stopped.status).toBe(3);
    expect(resume).toBe(`npx --prefix ${root} koala-replay send --no-stitch --endpoint ${emulator.url} --state state.json events.jsonl --resume`);

    const resumed = await runShell(resume as string, directory, { KOALA_PUBLIC_KEY: KEY });
    expect(resumed.status).toBe(0);
    expect(emulator.accepted.size).toBe(1);
  }, 60_000);

  test.each([
    ["npx without a prefix", { npm_command: "exec" }, root, "npx koala-replay"],
    ["prefix npm finds from a subfolder", { npm_command: "exec", npm_config_local_prefix: root }, join(root, "test", "cli"), "npx koala-replay"],
    ["prefix elsewhere, with a space", { npm_command: "exec", npm_config_local_prefix: "/opt/my tools/koala-replay" }, "/", "npx --prefix '/opt/my tools/koala-replay' koala-replay"],
  ])("toolCommand: %s", (_case, env, workingDirectory, expected) => {
    expect(toolCommand(invocation({ env, workingDirectory }))).toBe(expected);
  });

  test("toolCommand: prefix of a plain folder", () => {
    const project = join(directory, "project");
    const work = join(directory, "work");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    mkdirSync(work);

    expect(toolCommand(invocation({ env: { npm_command: "exec", npm_config_local_prefix: work }, workingDirectory: work }))).toBe("npx koala-replay");
    expect(toolCommand(invocation({ env: { npm_command: "exec", npm_config_local_prefix: project }, workingDirectory: work }))).toBe(`npx --prefix ${project} koala-replay`);
  });
});

/** Returns the invocation of `node bin/koala-replay.js` from the project root, as the tests start the CLI, with `changes` applied. */
function invocation(changes: Partial<Invocation>): Invocation {
  return { env: { PATH: process.env["PATH"] }, workingDirectory: projectRoot, scriptPath: binPath, nodePath: process.execPath, nodeOptions: [], ...changes };
}

describe("toolCommand without npm", () => {
  test.each([
    ["script in the working folder", {}, "node bin/koala-replay.js"],
    ["node options", { nodeOptions: ["--max-old-space-size=8192", "--stack-size=2000"] }, "node --max-old-space-size=8192 --stack-size=2000 bin/koala-replay.js"],
    ["node not on the PATH", { env: { PATH: "/nonexistent" }, nodePath: "/opt/node 20/bin/node" }, "'/opt/node 20/bin/node' bin/koala-replay.js"],
    ["no script", { scriptPath: undefined }, "koala-replay"],
  ])("%s", (_case, changes, expected) => {
    expect(toolCommand(invocation(changes))).toBe(expected);
  });

  test("script outside the working folder", () => {
    // A new temporary folder cannot contain the project.
    expect(toolCommand(invocation({ workingDirectory: directory }))).toBe(`node ${binPath}`);
  });

  test("koala-replay on the PATH runs the script", () => {
    const bin = join(directory, "bin");
    linkBinary(bin);
    const link = join(bin, "koala-replay");
    const path = `${bin}${delimiter}${process.env["PATH"] ?? ""}`;

    expect(toolCommand(invocation({ env: { PATH: path }, scriptPath: link }))).toBe("koala-replay");
    // `node path/to/bin/koala-replay.js` runs the same file as the koala-replay on the PATH.
    expect(toolCommand(invocation({ env: { PATH: path } }))).toBe("koala-replay");
  });

  test("koala-replay on the PATH is another install", () => {
    const bin = join(directory, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "koala-replay"), "#!/bin/sh\n");

    expect(toolCommand(invocation({ env: { PATH: `${bin}${delimiter}${process.env["PATH"] ?? ""}` } }))).toBe("node bin/koala-replay.js");
  });
});
