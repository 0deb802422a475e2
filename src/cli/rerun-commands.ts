import { existsSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { shellQuote, toolCommand } from "./tool-command.js";

/** The placeholder printed in place of a public key given on the command line, because the key is never printed. */
const KEY_PLACEHOLDER = "<public key>";

/**
 * Options of `send` that a resend of its dead letters keeps: where and how the requests go, and
 * which entries are not sent. `--exclude-emails` and the config, whose `excludeEmails` add to it,
 * apply to a resent dead letter as to any entry. The other options select and map events, which
 * dead letters skip because they are resent as written, or name the state and dead-letter files.
 * The resend names its own after its input, or after `--state` when the run had one (see
 * deadLetterResendCommand).
 */
const RESEND_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set([
  "--endpoint",
  "--public-key",
  "--concurrency",
  "--max-rps",
  "--max-batch-size",
  "--timeout-ms",
  "--max-attempts",
  "--max-outage-ms",
  "--exclude-emails",
  "--config",
  "-c",
]);
const RESEND_FLAGS: ReadonlySet<string> = new Set(["--no-adaptive-concurrency", "-v", "--verbose", "-q", "--quiet", "--no-progress"]);

/**
 * Builds the command that resumes this run: the same arguments and `--resume`, which finds the same
 * state file because its default path derives from the inputs. A public key given on the command
 * line is replaced by a placeholder, and `--report` gets a path of its own (see `nextReportPath`).
 */
export function resumeCommand(argv: readonly string[] = process.argv.slice(2)): string {
  return rerunCommand("--resume", argv);
}

/**
 * Builds the command that runs this run again with `flag`, `--resume` or `--restart`, in place of
 * the other one. A public key given on the command line is replaced by a placeholder, and
 * `--report` gets a path of its own (see `nextReportPath`).
 */
export function rerunCommand(flag: "--resume" | "--restart", argv: readonly string[] = process.argv.slice(2)): string {
  const otherFlag = flag === "--resume" ? "--restart" : "--resume";
  const args = withoutPublicKey(argv).filter((arg) => arg !== otherFlag);
  if (!args.includes(flag)) {
    args.push(flag);
  }
  return printedCommand(withNextReportPath(args, flag === "--resume" ? "resume" : "rerun"));
}

/**
 * Builds the command that resumes the run of the state file `statePath`: this run's arguments with
 * `--resume` and `--state <statePath>`. A public key given on the command line is replaced by a
 * placeholder, and `--report` gets a path of its own (see `nextReportPath`).
 */
export function resumeFromStateCommand(statePath: string, argv: readonly string[] = process.argv.slice(2)): string {
  const args = withoutPublicKey(argv).filter((arg) => arg !== "--restart");
  if (!args.includes("--resume")) {
    args.push("--resume");
  }
  args.push("--state", statePath);
  return printedCommand(withNextReportPath(args, "resume"));
}

/**
 * Builds this run's command without `--resume`, so that it sends every event again. The public key
 * and `--report` are replaced as above.
 */
export function withoutResumeCommand(argv: readonly string[] = process.argv.slice(2)): string {
  return printedCommand(withNextReportPath(withoutPublicKey(argv).filter((arg) => arg !== "--resume"), "rerun"));
}

/** The kind of run that a printed command starts, which names its report (see `nextReportPath`). */
type RerunKind = "resume" | "rerun" | "resend";

/**
 * Options whose file each run writes anew, so that a printed command gives them a path of its own
 * (see `nextReportPath`) and the next run keeps this run's file.
 */
const PER_RUN_FILE_OPTIONS: readonly string[] = ["--report", "--not-sent"];

/** Returns `args` with the path of `--report <path>`, `--not-sent=<path>` and the like replaced by `nextReportPath`. */
function withNextReportPath(args: readonly string[], kind: RerunKind): string[] {
  const result: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const inline = PER_RUN_FILE_OPTIONS.find((option) => arg.startsWith(`${option}=`) && arg.length > option.length + 1);
    if (PER_RUN_FILE_OPTIONS.includes(arg) && index + 1 < args.length) {
      result.push(arg, nextReportPath(args[index + 1] as string, kind));
      index += 1;
    } else if (inline !== undefined) {
      result.push(`${inline}=${nextReportPath(arg.slice(inline.length + 1), kind)}`);
    } else {
      result.push(arg);
    }
  }
  return result;
}

/**
 * Names the report of a run that a printed command starts, in the folder of this run's report. The
 * name is that of neither this run's report nor any existing file. `r1.json` becomes
 * `r1-resume.json` for a resume and `r1-rerun.json` for a run that sends everything again. The
 * suffix of an earlier printed command is taken off first, so suffixes do not stack:
 * `r1-resume.json` becomes `r1-rerun.json`. When the name is taken, by this run's report or by a
 * file that `exists`, it gets a number: `r1-resume-2.json`, then `r1-resume-3.json`. A resume of
 * `r1-resume-2.json` gets `r1-resume-3.json` at least.
 */
export function nextReportPath(reportPath: string, kind: RerunKind, exists: (path: string) => boolean = existsInWorkingDirectory): string {
  const extension = extname(reportPath);
  const fullStem = basename(reportPath, extension);
  const stem = fullStem.replace(PRINTED_REPORT_SUFFIXES, "");
  // A resume of `r1-resume-2.json` continues from 3, so that the numbers follow the order of the runs.
  const last = new RegExp(`-${kind}(?:-(\\d+))?$`).exec(fullStem);
  const firstNumber = last === null ? 1 : Number(last[1] ?? "1") + 1;
  // join() would drop the `./` of `./r1.json` and normalise the rest, so the folder is kept as written.
  const folder = reportPath.slice(0, reportPath.length - basename(reportPath).length);
  for (let number = firstNumber; ; number += 1) {
    const candidate = `${folder}${stem === "" ? kind : `${stem}-${kind}`}${number === 1 ? "" : `-${number}`}${extension}`;
    if (candidate !== reportPath && !exists(candidate)) {
      return candidate;
    }
  }
}

/** The suffixes that `nextReportPath` adds, once or several times, as written by any version: `-resume`, `-rerun-2`, `-resume-resend`. */
const PRINTED_REPORT_SUFFIXES = /(?:-(?:resume|rerun|resend)(?:-\d+)?)+$/;

/** Checks whether a path, relative to the working directory or absolute, names an existing file or folder. */
function existsInWorkingDirectory(path: string): boolean {
  return existsSync(resolve(process.cwd(), path));
}

/**
 * Builds the command that sends the dead letters of this run again: `send` with the options of
 * this run that set where and how to send, and the dead-letter files as the only inputs. One
 * command sends every file, so that one checkpoint of the resend records them all. Stitching
 * is off, because a dead letter is resent as written. A public key given on the command line is
 * replaced by a placeholder, and one from KOALA_PUBLIC_KEY is left to that variable. `--report`
 * and `--not-sent` get paths of their own (`r1-resend.json` for `r1.json`, see `nextReportPath`).
 *
 * When this run was given `--state`, such as a trial against a local emulator, the resend gets a
 * checkpoint beside it (`trial/state-resend.json` for `trial/state.json`). Otherwise its
 * checkpoint, and any dead letters of its own, would go to the default folder `.koala-replay` that
 * the run was kept out of.
 */
export function deadLetterResendCommand(deadLetterPaths: string | readonly string[], argv: readonly string[] = process.argv.slice(2)): string {
  const args = ["send"];
  const runArgs = withoutPublicKey(argv);
  let statePath: string | undefined;
  for (let index = 0; index < runArgs.length; index += 1) {
    const arg = runArgs[index] as string;
    const name = arg.split("=", 1)[0] as string;
    if (PER_RUN_FILE_OPTIONS.includes(name) && arg.length > name.length + 1) {
      args.push(`${name}=${nextReportPath(arg.slice(name.length + 1), "resend")}`);
    } else if (PER_RUN_FILE_OPTIONS.includes(arg) && index + 1 < runArgs.length) {
      args.push(arg, nextReportPath(runArgs[index + 1] as string, "resend"));
      index += 1;
    } else if (RESEND_FLAGS.has(arg) || (RESEND_OPTIONS_WITH_VALUE.has(name) && arg.includes("=")) || isConfigWithAttachedPath(arg)) {
      args.push(arg);
    } else if (RESEND_OPTIONS_WITH_VALUE.has(arg) && index + 1 < runArgs.length) {
      args.push(arg, runArgs[index + 1] as string);
      index += 1;
    } else if (arg.startsWith("--state=")) {
      statePath = arg.slice("--state=".length);
    } else if (arg === "--state" && index + 1 < runArgs.length) {
      statePath = runArgs[index + 1] as string;
      index += 1;
    }
  }
  if (statePath !== undefined && statePath !== "") {
    args.push("--state", resendStatePath(statePath));
  }
  args.push("--no-stitch", ...(typeof deadLetterPaths === "string" ? [deadLetterPaths] : deadLetterPaths));
  return printedCommand(args);
}

/** Checks whether `arg` is `-c` with its path attached (`-cmy.json`), which commander accepts as `-c my.json`. */
function isConfigWithAttachedPath(arg: string): boolean {
  return arg.startsWith("-c") && arg.length > 2 && !arg.startsWith("--");
}

/** Names the checkpoint of a resend after the run's own: `state.json` becomes `state-resend.json`, in the same folder. */
function resendStatePath(statePath: string): string {
  return join(dirname(statePath), `${basename(statePath, extname(statePath))}-resend.json`);
}

/**
 * Returns `argv` with the value of `--public-key` replaced by a placeholder, and the key inside the
 * value of `--endpoint` (a proxy whose path carries it) replaced too. With `--public-key`, it becomes
 * the same placeholder, which the user replaces in both. With KOALA_PUBLIC_KEY, it becomes
 * ENV_KEY_MARK, which `printedCommand` turns into a reference to that variable.
 */
function withoutPublicKey(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const optionKey = publicKeyOption(argv);
  const key = optionKey ?? env["KOALA_PUBLIC_KEY"]?.trim();
  const keyStandIn = optionKey === undefined ? ENV_KEY_MARK : KEY_PLACEHOLDER;
  const withoutKey = (value: string): string => (key === undefined || key === "" ? value : value.split(key).join(keyStandIn));
  const args: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "--public-key") {
      args.push(arg, KEY_PLACEHOLDER);
      index += 1;
    } else if (arg.startsWith("--public-key=")) {
      args.push(`--public-key=${KEY_PLACEHOLDER}`);
    } else if (arg === "--endpoint" && index + 1 < argv.length) {
      args.push(arg, withoutKey(argv[index + 1] as string));
      index += 1;
    } else if (arg.startsWith("--endpoint=")) {
      args.push(withoutKey(arg));
    } else {
      args.push(arg);
    }
  }
  return args;
}

/** Returns the key of the last `--public-key` in `argv`, trimmed as the run used it, or undefined when there is none. */
function publicKeyOption(argv: readonly string[]): string | undefined {
  let key: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "--public-key" && index + 1 < argv.length) {
      key = (argv[index + 1] as string).trim();
    } else if (arg.startsWith("--public-key=")) {
      key = arg.slice("--public-key=".length).trim();
    }
  }
  return key === "" ? undefined : key;
}

/**
 * Stands for the key of KOALA_PUBLIC_KEY inside an argument until `printedCommand` quotes it. A
 * NUL character cannot occur in a command-line argument, so no argument contains it by chance.
 */
const ENV_KEY_MARK = "\u0000KOALA_PUBLIC_KEY\u0000";

/**
 * The shell's reference to KOALA_PUBLIC_KEY that a printed command puts in place of the key. The
 * `:?` form makes the shell stop with an error when the variable is unset or empty, rather than
 * run the command with an endpoint that lacks the key.
 */
const ENV_KEY_REFERENCE = "${KOALA_PUBLIC_KEY:?}";

function printedCommand(args: readonly string[]): string {
  return [toolCommand(), ...args.map(quoteArgument)].join(" ");
}

/** Quotes `arg` for the shell, with each ENV_KEY_MARK inside double quotes as a reference to KOALA_PUBLIC_KEY. */
function quoteArgument(arg: string): string {
  if (!arg.includes(ENV_KEY_MARK)) {
    return shellQuote(arg);
  }
  // Inside double quotes a POSIX shell still gives $, `, " and \ a special meaning, so each gets a backslash.
  const literal = (text: string): string => text.replace(/[$`"\\]/g, (character) => `\\${character}`);
  return `"${arg.split(ENV_KEY_MARK).map(literal).join(ENV_KEY_REFERENCE)}"`;
}
