import { statSync } from "node:fs";
import { resolve, sep } from "node:path";
import { defaultDeadLetterPath, defaultStatePath } from "../delivery/index.js";
import { canonicalPath, isSameFile } from "../delivery/output-paths.js";
import type { RunOutputFile } from "../reporting/report-file.js";
import { UsageError } from "./errors.js";
import { nextReportPath } from "./rerun-commands.js";
import type { SendSettings } from "./send-options.js";

/** A file that `send` writes, with the option that names it and what writing it does to a file already there. */
interface WrittenFile {
  path: string;
  option: string;
  description: string;
  effect: string;
}

/** Returns the checkpoint and dead-letter files that a real send writes; a dry run writes neither. */
export function filesWritten(settings: SendSettings): RunOutputFile[] {
  if (settings.dryRun) {
    return [];
  }
  const statePath = settings.delivery.statePath ?? defaultStatePath(settings.inputs, process.cwd());
  const deadLetterPath = settings.delivery.deadLetterPath ?? defaultDeadLetterPath(statePath);
  return [
    { path: statePath, description: "the checkpoint file" },
    { path: deadLetterPath, description: "the dead-letter file" },
  ];
}

/**
 * Rejects a checkpoint, dead-letter, report or not-sent path that names the `--identities` file or the config
 * file, before anything is read. The run reads both at its start and would then replace them, or
 * append dead letters to them. Paths are compared with links resolved.
 */
export function rejectFilesWrittenOverReadFiles(settings: SendSettings, configPath: string | undefined): void {
  const read = [
    { path: settings.identitiesFile, description: "the --identities file" },
    { path: configPath, description: "the config file" },
  ].filter((file): file is { path: string; description: string } => file.path !== undefined);
  if (read.length === 0) {
    return;
  }
  const [state, deadLetters] = filesWritten(settings);
  const written: WrittenFile[] = [];
  if (state !== undefined) {
    written.push({ path: state.path, option: "--state", description: state.description, effect: "each save of the checkpoint would replace it" });
  }
  if (deadLetters !== undefined) {
    written.push({ path: deadLetters.path, option: "--dead-letter", description: deadLetters.description, effect: "the dead letters would be appended to it" });
  }
  if (settings.reportPath !== undefined) {
    written.push({ path: settings.reportPath, option: "--report", description: "the report", effect: "the report would replace it" });
  }
  if (settings.notSentPath !== undefined) {
    written.push({ path: settings.notSentPath, option: "--not-sent", description: "the not-sent file", effect: "the run would empty it" });
  }
  for (const file of written) {
    const writtenPath = canonicalPath(process.cwd(), file.path);
    // Dead letters are appended, so a hard link to a read file would change it too. The other files are replaced by a rename.
    const clash = read.find((candidate) => {
      const readPath = canonicalPath(process.cwd(), candidate.path);
      return readPath === writtenPath || (file.option === "--dead-letter" && isSameFile(readPath, writtenPath));
    });
    if (clash !== undefined) {
      throw new UsageError(`${file.description} ${file.path} is also ${clash.description}, so ${file.effect}`, `give ${file.option} another path`);
    }
  }
}

/**
 * Rejects a checkpoint, dead-letter, report or not-sent path that names the lock of the checkpoint,
 * of the dead-letter file or of the not-sent file (`<path>.lock`). The file would then look like a
 * lock that outlives the run, and every later run would stop and advise deleting it, dead letters
 * and all. A checkpoint at such a path would be read as the lock that this run has just written.
 */
export function rejectFilesWrittenAtLockPaths(settings: SendSettings): void {
  const [state, deadLetters] = filesWritten(settings);
  const notSent: RunOutputFile | undefined = settings.notSentPath === undefined ? undefined : { path: settings.notSentPath, description: "the not-sent file" };
  const locks = [state, deadLetters, notSent]
    .filter((file): file is RunOutputFile => file !== undefined)
    .map((file) => ({ lockPath: `${canonicalPath(process.cwd(), file.path)}.lock`, description: file.description }));
  const written = [
    { path: state?.path, option: "--state", description: "the checkpoint" },
    { path: deadLetters?.path, option: "--dead-letter", description: "the dead-letter file" },
    { path: settings.reportPath, option: "--report", description: "the report" },
    { path: settings.notSentPath, option: "--not-sent", description: "the not-sent file" },
  ];
  for (const file of written) {
    if (file.path === undefined) continue;
    const writtenPath = canonicalPath(process.cwd(), file.path);
    const lock = locks.find((candidate) => candidate.lockPath === writtenPath);
    if (lock !== undefined) {
      throw new UsageError(
        `${file.description} ${file.path} is the lock file of ${lock.description}, which each run creates to keep other runs out and deletes at its end, so later runs would take it for a lock in use`,
        `give ${file.option} another path`,
      );
    }
  }
}

/**
 * Rejects a `--not-sent` path inside a folder among the inputs. The walk of that folder would read
 * the file of an earlier run as events while this run empties and rewrites it.
 */
export function rejectNotSentPathInInputFolder(notSentPath: string, inputs: readonly string[]): void {
  const target = resolve(notSentPath);
  for (const input of inputs) {
    if (input === "-" || !isDirectory(input)) {
      continue;
    }
    const folder = resolve(input);
    if (target.startsWith(`${folder}${sep}`)) {
      throw new UsageError(`the not-sent file ${notSentPath} is inside the input folder ${input}, which this run reads, so it would read the file as events`, "give --not-sent a path outside the input folders");
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // An input that cannot be read is reported when the run reads it.
    return false;
  }
}

/**
 * Rejects `--resume` with a `--not-sent` file that is not empty. The resume would empty it, and it
 * is most likely the file of the run being resumed. The resume does not write those lines again,
 * because it leaves out the events that the earlier run finished, skipped ones included.
 */
export function rejectNotSentFileOfEarlierRun(settings: SendSettings): void {
  if (!settings.delivery.resume || settings.notSentPath === undefined) {
    return;
  }
  const existing = statSync(settings.notSentPath, { throwIfNoEntry: false });
  if (existing === undefined || !existing.isFile() || existing.size === 0) {
    return;
  }
  throw new UsageError(
    `the not-sent file ${settings.notSentPath} is not empty, and --resume would empty it. It probably lists the events that the run being resumed did not send, which the resume leaves out as finished`,
    `give the resume a not-sent file of its own, such as --not-sent ${nextReportPath(settings.notSentPath, "resume")}`,
  );
}
