import { existsSync, readdirSync, realpathSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";

/**
 * The dead-letter files that the runs of one checkpoint wrote to, and whether a resend delivered
 * their entries since. A checkpoint lists every file, because `--dead-letter` may change between a
 * run and its resumes. A resume looks for the checkpoint of a resend of each file, the run that
 * the printed resend command starts, and counts the entries that it delivered as done.
 */

/** A dead-letter file of a checkpoint, as the state file lists it in `deadLetterFiles`. */
export interface DeadLetterFileRecord {
  /** Absolute path of the file. */
  path: string;
  /** Entries that the runs of the checkpoint wrote to it, counted at their saves. */
  entries: number;
  /** Length of the file in bytes at the last save that counted an entry of it: its lines end before. */
  bytes: number;
  /** Entries of `entries` that a resend delivered, as `resentBy` found. Missing when none. */
  resentEntries?: number;
  /** Absolute path of the checkpoint of the resend that delivered `resentEntries`. */
  resentBy?: string;
}

/** Outcome of a resume's search for the resend of a dead-letter file of its checkpoint. */
export type DeadLetterFileStatus =
  /** A resend read the file through its last line of the checkpoint and delivered every entry. */
  | "resent"
  /** A resend read the file to its end, but some entries failed again or were not sent (excluded, invalid). */
  | "resent-partly"
  /** The checkpoint of a resend that read the file exists, but that resend did not finish it. */
  | "resend-unfinished"
  /** A resend finished, but read the file before the checkpoint's runs wrote its last lines. */
  | "resent-before-last-lines"
  /** The file exists, and no checkpoint of a resend of it was found. */
  | "not-resent"
  /** The file no longer exists, and no checkpoint of a resend of it was found. */
  | "missing";

/** A dead-letter file of the earlier runs of a resumed checkpoint, with what became of its entries. */
export interface EarlierDeadLetterFile {
  path: string;
  entries: number;
  /** Entries that are still not delivered, as far as the resend checkpoints tell. */
  undelivered: number;
  status: DeadLetterFileStatus;
  /** Checkpoint of the resend that `status` describes, when one was found. */
  resendStatePath?: string;
  /** Entries of the file that the resend dead-lettered again, or of every file it read when it counted them together. */
  failedAgain?: number;
}

/** The fields of a state file that the search for resends reads, of this checkpoint or of a resend's. */
export interface DeadLetterStateFields {
  finished?: boolean;
  deadLetterFile?: { path: string; bytes: number };
  deadLetteredEntries?: number;
  deadLetterFiles?: DeadLetterFileRecord[];
  inputs: Record<
    string,
    {
      fingerprint: { size: number } | null;
      notDone: number[];
      readByFinishedRun?: boolean;
      doneWithoutEntries?: number;
      deadLetteredEntries?: number;
    }
  >;
}

/** Reads a state file, or returns undefined when it is missing, and raises when it cannot be read as one. */
export type StateReader = (path: string) => DeadLetterStateFields | undefined;

/** Resends within resends that the search follows, for the dead letters of a resend of a resend. */
const MAX_RESEND_DEPTH = 4;

/**
 * Returns the dead-letter files that `state` lists. A state file written before the list existed
 * records only its last file and the count of every file, so that count is taken as the last
 * file's. Returns undefined when the state file did not count its dead letters at all.
 */
export function readDeadLetterFileRecords(state: DeadLetterStateFields): DeadLetterFileRecord[] | undefined {
  if (Array.isArray(state.deadLetterFiles)) {
    return state.deadLetterFiles.map((record) => ({ ...record }));
  }
  const count = state.deadLetteredEntries;
  const file = state.deadLetterFile;
  if (count === undefined) {
    return file?.bytes === 0 ? [] : undefined;
  }
  // NOTE: when --dead-letter changed between the runs of such a state, some of these entries are in
  // files it did not record, which the resend of this one file does not send.
  if (count === 0) {
    return [];
  }
  // A count without a file to put it against, as in a state file edited by hand, stays uncounted by file.
  return file === undefined ? undefined : [{ path: file.path, entries: count, bytes: file.bytes }];
}

/**
 * Returns the records to save: `earlier`, with the entries this run dead-lettered until now added to
 * the record of its file, `runFile`, whose length is `runFile.bytes` now.
 */
export function addRunDeadLetters(earlier: readonly DeadLetterFileRecord[], runFile: { path: string; bytes: number } | undefined, runEntries: number): DeadLetterFileRecord[] {
  const records = earlier.map((record) => ({ ...record }));
  if (runFile === undefined || runEntries === 0) {
    return records;
  }
  const record = records.find((candidate) => candidate.path === runFile.path);
  if (record === undefined) {
    records.push({ path: runFile.path, entries: runEntries, bytes: runFile.bytes });
  } else {
    record.entries += runEntries;
    record.bytes = Math.max(record.bytes, runFile.bytes);
  }
  return records;
}

/** Settings of the search for the resend checkpoints of the checkpoint at `statePath`. */
export interface ResendSearch {
  /** The checkpoint being resumed, by absolute path, which is no resend of its own files. */
  statePath: string;
  cwd: string;
  readState: StateReader;
}

/**
 * Finds, for each file of `records` with entries not yet known to be delivered, the checkpoint of a
 * resend and what it did. A resend that delivered every entry is recorded in the returned records
 * (`resentEntries`, `resentBy`), so that later resumes need not find it again.
 */
export function checkResends(records: readonly DeadLetterFileRecord[], search: ResendSearch): { records: DeadLetterFileRecord[]; files: EarlierDeadLetterFile[] } {
  const resends = listResendCheckpoints(search);
  const updated: DeadLetterFileRecord[] = [];
  const files: EarlierDeadLetterFile[] = [];
  for (const record of records) {
    const known = Math.min(record.entries, record.resentEntries ?? 0);
    if (known === record.entries && record.entries > 0) {
      updated.push({ ...record });
      files.push({ path: record.path, entries: record.entries, undelivered: 0, status: "resent", ...(record.resentBy === undefined ? {} : { resendStatePath: record.resentBy }) });
      continue;
    }
    const file = checkFile(record, resends, search, new Set([search.statePath]), 0);
    if (file.status === "resent") {
      updated.push({ ...record, resentEntries: record.entries, ...(file.resendStatePath === undefined ? {} : { resentBy: file.resendStatePath }) });
    } else {
      updated.push({ ...record });
    }
    files.push(file);
  }
  return { records: updated, files };
}

/** A state file found in the folders of resend checkpoints, read. */
interface FoundState {
  path: string;
  state: DeadLetterStateFields;
}

/**
 * Lists the state files that may be resends: those in `.koala-replay` of the working directory and
 * in the folder of the resumed checkpoint named `state-<hash>.json`, and `<name>-resend.json`,
 * `<name>-resend-resend.json` … beside it, as `deadLetterResendCommand` names them. Files that cannot be read as state files are left out.
 */
function listResendCheckpoints(search: ResendSearch): FoundState[] {
  const paths = new Set<string>();
  for (const folder of [join(search.cwd, ".koala-replay"), dirname(search.statePath)]) {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names.filter((entry) => /^state-[0-9a-f]+\.json$/.test(entry))) {
      paths.add(join(folder, name));
    }
  }
  // A resend of a run given --state has `<name>-resend.json`, and a resend of its dead letters `<name>-resend-resend.json`.
  for (let depth = 0, path = search.statePath; depth < MAX_RESEND_DEPTH; depth += 1) {
    path = resendStatePathOf(path);
    paths.add(path);
  }
  paths.delete(search.statePath);
  const found: FoundState[] = [];
  for (const path of paths) {
    const state = readQuietly(search.readState, path);
    if (state !== undefined) {
      found.push({ path, state });
    }
  }
  return found;
}

/** Names the checkpoint that the printed resend command gives a run with `--state`: `state.json` becomes `state-resend.json`. */
export function resendStatePathOf(statePath: string): string {
  return join(dirname(statePath), `${basename(statePath, extname(statePath))}-resend.json`);
}

function readQuietly(readState: StateReader, path: string): DeadLetterStateFields | undefined {
  try {
    return readState(path);
  } catch {
    // Another run's state file that cannot be read is no resend that can be trusted.
    return undefined;
  }
}

/** Checks what the resends found did with the entries of `record` that are not known to be delivered. */
function checkFile(record: DeadLetterFileRecord, resends: readonly FoundState[], search: ResendSearch, visited: Set<string>, depth: number): EarlierDeadLetterFile {
  const base = { path: record.path, entries: record.entries };
  const open = record.entries - Math.min(record.entries, record.resentEntries ?? 0);
  const readers = resends.filter((resend) => !visited.has(resend.path) && inputOf(resend.state, record.path) !== undefined);
  if (readers.length === 0) {
    return { ...base, undelivered: open, status: existsSync(record.path) ? "not-resent" : "missing" };
  }
  const outcomes = readers.map((resend) => checkResend(record, open, resend, resends, search, new Set([...visited, resend.path]), depth));
  // The resend that leaves the fewest entries undelivered describes the file best.
  return outcomes.reduce((best, outcome) => (outcome.undelivered < best.undelivered ? outcome : best));
}

function checkResend(
  record: DeadLetterFileRecord,
  open: number,
  resend: FoundState,
  resends: readonly FoundState[],
  search: ResendSearch,
  visited: Set<string>,
  depth: number,
): EarlierDeadLetterFile {
  const base = { path: record.path, entries: record.entries, resendStatePath: resend.path };
  const input = inputOf(resend.state, record.path);
  if (input === undefined || input.readByFinishedRun !== true || input.notDone.length > 0) {
    return { ...base, undelivered: open, status: "resend-unfinished" };
  }
  // Dead-letter files are only appended to, so a resend that read this many bytes read every line of the record.
  if (input.fingerprint === null || input.fingerprint.size < record.bytes) {
    return { ...base, undelivered: open, status: "resent-before-last-lines" };
  }
  // A resend that read several files counts its dead letters per file; one of an earlier version counts them all together.
  const failed = input.deadLetteredEntries ?? resend.state.deadLetteredEntries;
  const notSent = input.doneWithoutEntries;
  if (failed === undefined || notSent === undefined) {
    // A resend written by an earlier version did not count what it did not deliver.
    return { ...base, undelivered: open, status: "resent-partly" };
  }
  let undeliveredByResend = notSent;
  if (failed > 0) {
    const theirs = readDeadLetterFileRecords(resend.state);
    undeliveredByResend += theirs === undefined || depth + 1 >= MAX_RESEND_DEPTH ? failed : countUndelivered(theirs, resends, search, visited, depth + 1);
  }
  const undelivered = Math.min(open, undeliveredByResend);
  return { ...base, undelivered, status: undelivered === 0 ? "resent" : "resent-partly", failedAgain: failed };
}

/** Adds up the entries of `records`, a resend's own dead letters, that no later resend delivered. */
function countUndelivered(records: readonly DeadLetterFileRecord[], resends: readonly FoundState[], search: ResendSearch, visited: Set<string>, depth: number): number {
  let total = 0;
  for (const record of records) {
    total += checkFile(record, resends, search, visited, depth).undelivered;
  }
  return total;
}

/**
 * Returns the progress that `state` records for the file at the absolute `path`. A state file keys
 * its inputs by their paths with links resolved, which the path of a dead-letter file may not be.
 */
function inputOf(state: DeadLetterStateFields, path: string): DeadLetterStateFields["inputs"][string] | undefined {
  const direct = state.inputs[path];
  if (direct !== undefined) {
    return direct;
  }
  try {
    return state.inputs[join(realpathSync.native(dirname(path)), basename(path))];
  } catch {
    return undefined;
  }
}

/**
 * Counts the entries that the earlier runs of a resumed checkpoint dead-lettered and that no resend
 * delivered since: all of them when the checkpoint does not list its files, and undefined when it
 * did not count them.
 */
export function countUndeliveredEarlier(earlier: { entries: number | undefined; files?: readonly EarlierDeadLetterFile[] }): number | undefined {
  if (earlier.files === undefined) {
    return earlier.entries;
  }
  return earlier.files.reduce((total, file) => total + file.undelivered, 0);
}
