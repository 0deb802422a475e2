import type { Stats } from "node:fs";
import { access, constants, mkdir, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { nearestExistingFolder } from "../files/existing-folder.js";
import { dirname, resolve } from "node:path";
import { canonicalPath } from "../delivery/output-paths.js";

/** Error raised when a report cannot be written to a path. It is checked before the run starts, so no run is wasted. */
export class ReportPathError extends Error {
  readonly hint: string;

  constructor(message: string, hint: string) {
    super(message);
    this.name = "ReportPathError";
    this.hint = hint;
  }
}

/** Another file the run writes, which the report must not replace. */
export interface RunOutputFile {
  path: string;
  /** Name of the file's role in messages, such as "the checkpoint file". */
  description: string;
}

/** A file of the run that a path option names, as the messages of `checkOutputPath` describe it. */
export interface OutputFileKind {
  /** The option, such as `--report`. */
  option: string;
  /** The file's role, such as "the report". */
  noun: string;
  /** A file name for the example of a path inside a directory. */
  exampleName: string;
  /**
   * Whether the file is written in place, so that a pipe or a device such as /dev/stderr can take it.
   * Otherwise it goes to a new file renamed over the path, which only a regular file allows.
   */
  writtenInPlace: boolean;
}

const REPORT_FILE: OutputFileKind = { option: "--report", noun: "the report", exampleName: "report.json", writtenInPlace: false };

/**
 * Checks that a report can be written to `path`: its directory exists and is writable, or can be
 * created in a writable one, it is not a
 * directory itself, and it is neither one of `inputs` nor one of `outputs`, which the report would replace.
 */
export async function checkReportPath(path: string, inputs: readonly string[] = [], outputs: readonly RunOutputFile[] = []): Promise<void> {
  await checkOutputPath(path, REPORT_FILE, inputs, outputs);
}

/** Checks a path that `kind` is to be written to, as `checkReportPath` does for the report. */
export async function checkOutputPath(path: string, kind: OutputFileKind, inputs: readonly string[] = [], outputs: readonly RunOutputFile[] = []): Promise<void> {
  const { option, noun } = kind;
  const directory = dirname(resolve(path));
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) {
    throw new ReportPathError(`cannot write ${noun} to "${path}": it is a directory`, `name a file instead, for example ${option} ${path.replace(/\/+$/, "")}/${kind.exampleName}`);
  }
  if (existing !== undefined && kind.writtenInPlace) {
    await checkWritable(path, kind);
    if (!existing.isFile()) {
      // A pipe or a device is written as it is, and cannot be an input or another file of the run.
      return;
    }
  }
  // The report goes to a new file renamed over the path, which would replace /dev/stdout itself for root.
  if (existing !== undefined && !existing.isFile()) {
    throw new ReportPathError(
      `cannot write ${noun} to "${path}": it is ${describeFileKind(existing)}, not a regular file, and ${noun} is written to a new file renamed over it`,
      "to print the report on stdout, use --json (a dry run prints its requests there instead); otherwise name a regular file",
    );
  }
  const input = existing === undefined ? undefined : await findSameFile(path, inputs);
  if (input !== undefined) {
    throw new ReportPathError(
      `cannot write ${noun} to "${path}": it is the input ${input}, which ${noun} would replace`,
      `choose a ${option} path outside the inputs, for example ${kind.exampleName} in another folder`,
    );
  }
  const reportPath = canonicalPath(process.cwd(), path);
  const output = outputs.find((candidate) => canonicalPath(process.cwd(), candidate.path) === reportPath);
  if (output !== undefined) {
    throw new ReportPathError(
      `cannot write ${noun} to "${path}": it is ${output.description} of this run, which ${noun} would replace`,
      `choose another ${option} path`,
    );
  }
  // A missing directory is created when the report is written, as the folder of --state is.
  try {
    await access(await nearestExistingFolder(directory), constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOTDIR" ? `cannot be created, because ${(error as { path?: string }).path ?? "a part of it"} is a file` : `is not writable (${code ?? String(error)})`;
    throw new ReportPathError(`cannot write ${noun} to "${path}": the directory ${directory} ${reason}`, `create it first (mkdir -p ${directory}) or choose another ${option} path`);
  }
}

/** Checks that an existing file written in place can be opened for writing. */
async function checkWritable(path: string, kind: OutputFileKind): Promise<void> {
  try {
    await access(path, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ReportPathError(`cannot write ${kind.noun} to "${path}": the file is not writable (${code})`, `make it writable (chmod u+w ${path}) or choose another ${kind.option} path`);
  }
}

/** Names the kind of a file that is neither a regular file nor a directory. */
function describeFileKind(stats: Stats): string {
  if (stats.isCharacterDevice()) return "a character device, such as a terminal";
  if (stats.isFIFO()) return "a pipe";
  if (stats.isSocket()) return "a socket";
  return "a block device";
}

/** Returns the first of `inputs` that is the file at `path`, compared by real path so that links and `./` count. */
async function findSameFile(path: string, inputs: readonly string[]): Promise<string | undefined> {
  const target = await realpath(path);
  for (const input of inputs) {
    if (input !== "-" && (await realpath(input).catch(() => undefined)) === target) {
      return input;
    }
  }
  return undefined;
}

/**
 * Writes the report through a temporary file and a rename, so a reader never finds half a report.
 * A symbolic link is written through, to its target, so that the link stays.
 */
export async function writeReportFile(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, "utf8");
    await rename(temporary, target);
  } catch (error) {
    // A full disk leaves part of the report in the temporary file, which no later run would remove.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
