import { spawn } from "node:child_process";
import { binPath, projectRoot } from "./run-cli.js";

export interface TerminalResult {
  status: number | null;
  /** Everything the command wrote to the terminal, escape sequences included, with CR LF turned into LF. */
  output: string;
}

/** Quotes one argument for the shell command that `script` runs. */
function shellQuote(argument: string): string {
  return `'${argument.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs the built binary in a pseudo-terminal, through util-linux `script`, so that stdout and
 * stderr are both a TTY. The terminal is 120 columns wide unless `columns` is given.
 * `redirectStdout` sends stdout to a file instead, leaving stderr on the terminal, as
 * `koala-replay send --dry-run > out.jsonl` does.
 */
export function runInTerminal(
  args: readonly string[],
  options: { env?: Record<string, string>; redirectStdout?: string; timeoutMs?: number; columns?: number } = {},
): Promise<TerminalResult> {
  const command = [process.execPath, binPath, ...args].map(shellQuote).join(" ");
  const redirect = options.redirectStdout === undefined ? "" : ` > ${shellQuote(options.redirectStdout)}`;
  // A pseudo-terminal made by script has no size until stty sets one.
  const shellCommand = `stty cols ${options.columns ?? 120} rows 40; ${command}${redirect}`;
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/script", ["-qfec", shellCommand, "/dev/null"], {
      cwd: projectRoot,
      env: { PATH: process.env["PATH"], TERM: "xterm-256color", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output: Buffer.concat(output).toString("utf8").replaceAll("\r\n", "\n") }));
  });
}

/** Matches an ANSI escape sequence (colours, cursor moves, line clears). */
export const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/;
