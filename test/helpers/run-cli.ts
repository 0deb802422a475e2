import { spawn } from "node:child_process";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
export const binPath = fileURLToPath(new URL("../../bin/koala-replay.js", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  stdin?: string | Buffer;
  cwd?: string;
  /** Kills the process with SIGKILL after this many milliseconds; its status is then null. */
  killAfterMs?: number;
  /**
   * Limits the files the process writes to this many blocks of 512 bytes (`ulimit -f` in POSIX sh),
   * with SIGXFSZ ignored, so that a write past the limit fails with EFBIG as a full disk fails with
   * ENOSPC. Neither root nor a file system of its own is needed.
   */
  fileSizeLimitBlocks?: number;
  /** Runs the process as this user and group id, which needs root: file permissions then apply to it. */
  user?: { uid: number; gid: number };
}

/**
 * Returns the command that koala-replay prints for itself when a test runs `node bin/koala-replay.js`
 * in `cwd`: `node bin/koala-replay.js` from the project root, and node with the script's absolute
 * path from elsewhere. It takes the `node` on the PATH to be the one that runs the tests.
 */
export function printedCommand(cwd: string = projectRoot): string {
  const script = relative(cwd, binPath);
  return `node ${script.startsWith("..") || isAbsolute(script) ? binPath : script}`;
}

/** Runs the built binary as a user would, with a clean environment apart from what `env` adds. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, commandArgs] =
      options.fileSizeLimitBlocks === undefined
        ? [process.execPath, [binPath, ...args]]
        : ["sh", ["-c", `trap "" XFSZ; ulimit -f ${options.fileSizeLimitBlocks}; exec "$0" "$@"`, process.execPath, binPath, ...args]];
    const child = spawn(command, commandArgs, {
      cwd: options.cwd ?? projectRoot,
      env: { PATH: process.env["PATH"], ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const killer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(killer);
      resolve({ status, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    });
    // A command that exits before it reads stdin closes the pipe, and the write then fails with
    // EPIPE: the status and the output still tell what the command did.
    child.stdin.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") {
        reject(error);
      }
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/**
 * Runs a command line that koala-replay printed through sh in `cwd`, as a user pastes it, with the
 * PATH and what `env` adds as its only environment.
 */
export function runPrintedCommand(commandLine: string, cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", commandLine], { cwd, env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Parses dry-run output: one JSON request per line. */
export function parseRequests(stdout: string): Array<{ method: string; url: string; body: Record<string, unknown> }> {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { method: string; url: string; body: Record<string, unknown> });
}
