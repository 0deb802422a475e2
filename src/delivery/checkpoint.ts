import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { writeAll } from "../files/write-all.js";
import { findReadOnceInputs, nameReadOnceInputs, type ReadOnceInput } from "../inputs/read-once.js";
import type { RecordOrigin } from "../inputs/record.js";
import type { ResolvedIds } from "../identity/identity-graph.js";
import { type Destination, DestinationMismatchError, destinationsDiffer } from "./destination.js";
import { describeFingerprintChange, fingerprintFile, type InputFingerprint } from "./fingerprint.js";
import { deadLetterKey } from "./dead-letter.js";
import { addRunDeadLetters, checkResends, readDeadLetterFileRecords, type DeadLetterFileRecord, type EarlierDeadLetterFile } from "./dead-letter-files.js";
import { findStateFileProblem } from "./state-file-check.js";
import type { KoalaEntry } from "./entry.js";

/**
 * Version of the state file format. Version 2 files are written since the events of a JSON file
 * are numbered from the line where their document starts. A version 1 file may be of a version
 * that numbered the elements of an array from 1 wherever the array started. Its lines after the
 * first one not done may then name other events, so only the lines before that one are taken as done.
 */
const STATE_VERSION = 2;
const FIRST_STATE_VERSION = 1;
const STDIN_INPUT = "-";

/** Progress of one record that has entries still to deliver. */
export interface RecordProgress {
  input: InputProgress;
  line: number;
  /** Entries of the record neither delivered nor dead-lettered yet. */
  remaining: number;
  /**
   * The `deadLetterKey`s of the record's entries written to the dead-letter file while others were
   * still on their way, by this run or by the earlier runs of the state.
   */
  deadLettered: string[] | undefined;
  /**
   * The keys (as `deadLetterKey` forms them) of the record's entries delivered while others were
   * still on their way, by this run or by the earlier runs of the state.
   */
  delivered: string[] | undefined;
}

interface InputProgress {
  name: string;
  fingerprint: InputFingerprint | undefined;
  /** Every line up to this one that this run submitted or a previous run finished is done, except `notDone`. */
  doneThrough: number;
  /** Lines a previous run left unfinished; a line leaves this set when this run finishes it. */
  carriedNotDone: Set<number>;
  /** Lines a previous run finished, for `isDone`: at most `previousDoneThrough`, minus `carriedNotDone`. */
  previousDoneThrough: number;
  /** Lines submitted in this run whose entries are still on their way. */
  inProgress: Map<number, RecordProgress>;
  /** Dead-letter keys of entries of lines in `carriedNotDone`, as an earlier run recorded them, until this run reads the line. */
  carriedDeadLettered: Map<number, string[]>;
  /** Keys of the delivered entries of lines in `carriedNotDone`, as an earlier run recorded them, until this run reads the line. */
  carriedDelivered: Map<number, string[]>;
  /** Whether the last run that read this input finished, so that it read the input to its end. */
  readByFinishedRun: boolean;
  /**
   * Records with entries skipped because they had no email or profile_id, counted once, when
   * a run first reads them: this run's and earlier runs'.
   */
  noIdentityEvents: number;
  /**
   * Records done with no entry to send (the event skipped, or every entry of it skipped or invalid),
   * counted when a run finishes them: this run's and earlier runs'. Undefined when the resumed state
   * file, of an earlier version, did not count them.
   */
  doneWithoutEntries: number | undefined;
  /**
   * Entries of the input's records that the runs of the state dead-lettered, so that the dead letters
   * of a resend that read several dead-letter files can be traced to each file. Undefined when
   * the resumed state file, of an earlier version, did not count them.
   */
  deadLetteredEntries: number | undefined;
}

interface StateFileInput {
  fingerprint: InputFingerprint | null;
  /** Every line up to `doneThrough` is delivered or dead-lettered, except the lines in `notDone`. */
  doneThrough: number;
  /** Highest line below which everything is done: a contiguous watermark, for people reading the file. */
  watermark: number;
  notDone: number[];
  /**
   * The `deadLetterKey`s of entries already in the dead-letter file, by line in `notDone`: a record
   * whose other entries were not delivered when the state was saved. A resume neither sends those
   * entries nor writes their lines again. Missing when empty and in older files.
   */
  deadLettered?: Record<string, string[]>;
  /**
   * The keys (mapping and `message_id`, as `deadLetterKey` forms them) of entries already delivered,
   * by line in `notDone`: a record with several entries of which some were not delivered when the
   * state was saved. A resume does not send those entries again. Missing when empty and in older
   * files, whose resumes send every entry of such a record again.
   */
  delivered?: Record<string, string[]>;
  /**
   * Whether the last run that read this input finished. A later run that does not read the input
   * keeps the value. Missing in older files.
   */
  readByFinishedRun?: boolean;
  /**
   * Records done by the runs of this state with entries skipped as no-identity, which a resume does
   * not read again, even when its identity graph could now give them an email.
   * Missing in older files.
   */
  noIdentityEvents?: number;
  /** As `InputProgress.doneWithoutEntries`. Missing in older files. */
  doneWithoutEntries?: number;
  /** As `InputProgress.deadLetteredEntries`. Missing in older files. */
  deadLetteredEntries?: number;
}

interface StateFile {
  version: number;
  savedAt: string;
  /** Whether the run read every input and delivered or dead-lettered every entry. Missing in older files. */
  finished?: boolean;
  /** Hash of the settings that decide the entries of an event, as `DeliveryOptions.entrySettingsHash`. Missing in older files. */
  entrySettingsHash?: string;
  /**
   * A hash per group of those settings, as `DeliveryOptions.entrySettingHashes`, to name the groups
   * that changed. Missing in older files, which a resume compares by `entrySettingsHash` alone.
   */
  entrySettingHashes?: Record<string, string>;
  /**
   * Base URL that runs of this state delivered entries to, as `Destination.endpoint`, or null while
   * none delivered any. Missing in files of earlier versions.
   */
  endpoint?: string | null;
  /** As `Destination.publicKeySha256`, beside `endpoint`. */
  publicKeySha256?: string;
  /** As `Destination.publicKeyMasked`, beside `endpoint`, for the message that rejects a resume with another key. */
  publicKeyMasked?: string;
  /**
   * Whether the last run stopped because Koala rejected the key of `endpoint` (401, 403 or 404, which
   * GET /auth confirmed), so that a resume may use another key. Missing when false and in older files.
   */
  publicKeyRejected?: boolean;
  /**
   * The ids that the identity graph resolved to an email when the records counted in `noIdentityEvents`
   * were skipped: the graph of the earliest run still counted there. Missing in older files.
   */
  identityGraph?: ResolvedIds;
  /**
   * Digest of the identity graph of the last run that warned about the records counted in
   * `noIdentityEvents`, as `NoIdentityRecordsLeft` describes them. A resume with the same graph
   * does not print the warning again. Missing in older files and while no run warned.
   */
  identityGraphWarned?: string;
  /**
   * The dead-letter file, by absolute path, and its length in bytes when the state was saved. The
   * lines after that length were written after the save, and a resume fails their entries again.
   * Missing in older files and while a run has written no state file with a dead-letter file.
   */
  deadLetterFile?: DeadLetterFileLength;
  /**
   * Entries that the runs of this state wrote to their dead-letter files, counted at the save that
   * recorded `deadLetterFile`'s length. A resume fails the entries of the lines after that length
   * again and counts them then. Missing in older files, and in the files of every resume of a state
   * that lacked it, because the count would leave out the dead letters of its first runs.
   */
  deadLetteredEntries?: number;
  /**
   * Every dead-letter file that the runs of this state wrote to, with their entries in it and
   * whether a resend delivered them. Missing in older files, which a resume reads as one record of
   * `deadLetterFile` with `deadLetteredEntries`, and in the files of every resume of a state that
   * counted no dead letters.
   */
  deadLetterFiles?: DeadLetterFileRecord[];
  inputs: Record<string, StateFileInput>;
}

/**
 * Records that earlier runs skipped as no-identity and that the identity graph of this run may now
 * give an email, because it resolves other ids than the graph they were skipped with.
 */
export interface NoIdentityRecordsLeft {
  /** Records done by earlier runs some of whose entries were skipped as no-identity, in every input of the state. */
  events: number;
  /** Ids that the earlier graph resolved to an email. */
  idsBefore: number;
  /** Ids that this run's graph resolves to an email. */
  idsNow: number;
  /** Whether an earlier resume with the same graph already warned about these records. */
  warnedBefore: boolean;
}

/** A dead-letter file and its length in bytes at a checkpoint save. */
export interface DeadLetterFileLength {
  /** Absolute path of the file. */
  path: string;
  bytes: number;
}

/** Options of a checkpoint besides its path, inputs and working folder. */
export interface CheckpointOptions {
  /** Skip what the state file at `resumePath` records as done. */
  resume: boolean;
  /** Replace the state file of a run that did not finish, which otherwise raises UnfinishedRunError. */
  restart?: boolean;
  entrySettingsHash?: string | undefined;
  entrySettingHashes?: Readonly<Record<string, string>> | undefined;
  /**
   * Destination of this run's entries. The state file records it, and a resume from a state file
   * that recorded another one raises DestinationMismatchError.
   */
  destination?: Destination | undefined;
  /**
   * State file that `resume` reads, by default the one that `save` writes. A dry run gives the file
   * that a real run would resume from, to skip what that run would skip.
   */
  resumePath?: string | undefined;
}

/** An input that the resumed state names and this run does not read, as the state records it. */
export interface InputNotRead {
  /** Absolute path of the input. */
  path: string;
  /** Events of the input that earlier runs read and neither delivered nor dead-lettered. */
  undeliveredEvents: number;
  /** Whether the last run that read the input finished, so that no event after those it read is left unread. */
  readToEnd: boolean;
}

/** Raised when `--resume` finds that an input changed since the checkpoint was written. */
export class StateMismatchError extends Error {
  readonly code = "STATE_MISMATCH";
  /** The next step, for the CLI to print below the message. */
  readonly hint =
    "Restore the original file, or run with --restart in place of --resume to send everything again (Koala ignores entries whose message_id it already has).";

  constructor(
    readonly input: string,
    readonly change: string,
    readonly statePath: string,
  ) {
    super(`Cannot resume: input ${input} changed since the checkpoint ${statePath} was written (${change}).`);
    this.name = "StateMismatchError";
  }
}

/** Raised when a resume is impossible: stdin or a pipe among the inputs, or a state file that cannot be read. */
export class CannotResumeError extends Error {
  readonly code = "CANNOT_RESUME";

  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "CannotResumeError";
  }
}

/**
 * Raised, before anything is sent, for a state file that exists but cannot be read, is not JSON,
 * is of a newer version or fails its checks. A resume raises it, and so does a run that would
 * replace the file without `restart`, because the file may be the only record of a run that did
 * not finish.
 */
export class InvalidStateFileError extends CannotResumeError {
  constructor(
    readonly statePath: string,
    /** Problem with the file, as the end of a sentence that starts with the file: "is not valid JSON (…)". */
    readonly problem: string,
  ) {
    super(
      `the checkpoint ${statePath} ${problem}`,
      "Restore it from a backup, or run with --restart to start over and replace it (Koala ignores entries whose message_id it already has), or give this run a checkpoint of its own with --state <path> to keep it.",
    );
    this.name = "InvalidStateFileError";
  }
}

/**
 * Raised, before anything is sent, when a run that neither resumes nor restarts finds the state file
 * of an earlier run that did not finish. Sending everything again would replace that state, so the
 * user chooses: `resume` continues the earlier run, `restart` starts over.
 */
export class UnfinishedRunError extends Error {
  readonly code = "UNFINISHED_RUN";

  constructor(
    readonly statePath: string,
    /** When the earlier run last saved the state file, as ISO-8601, or undefined when the file lacks it. */
    readonly savedAt: string | undefined,
  ) {
    const saved = typeof savedAt === "string" ? ` (last saved ${savedAt})` : "";
    super(`the checkpoint ${statePath} is of an earlier run that did not finish${saved}, and this run would send every event again`);
    this.name = "UnfinishedRunError";
  }
}

/** The state file of a run that did not finish, as `listUnfinishedCheckpoints` finds it. */
export interface UnfinishedCheckpoint {
  path: string;
  /** When that run last saved it, as ISO-8601, or undefined when the file lacks it. */
  savedAt: string | undefined;
  /** The files that run read, by absolute path, or `-` for stdin. */
  inputs: string[];
}

/**
 * Raised, before anything is read, when `resume` finds no state file at the default path of the
 * inputs as given, but the same folder has state files of runs that did not finish. Such a file
 * was most likely written for the same files given another way, such as a folder in place of its
 * files, and sending every event again is not what a resume is for.
 */
export class CheckpointNotFoundError extends Error {
  readonly code = "CHECKPOINT_NOT_FOUND";

  constructor(
    readonly statePath: string,
    /** The most recently saved first. */
    readonly unfinished: readonly UnfinishedCheckpoint[],
  ) {
    super(`--resume found no checkpoint of these inputs at ${statePath}`);
    this.name = "CheckpointNotFoundError";
  }
}

/**
 * Lists the state files in `folder` (named `state-<hash>.json`) of runs that did not finish, the
 * most recently saved first. Files that cannot be read as state files are left out.
 */
export function listUnfinishedCheckpoints(folder: string): UnfinishedCheckpoint[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const found: UnfinishedCheckpoint[] = [];
  for (const name of names.filter((entry) => /^state-[0-9a-f]+\.json$/.test(entry))) {
    const path = join(folder, name);
    const state = readUnfinishedRun(path);
    if (state !== undefined) {
      found.push({ path, savedAt: typeof state.savedAt === "string" ? state.savedAt : undefined, inputs: Object.keys(state.inputs) });
    }
  }
  return found.sort((left, right) => (right.savedAt ?? "").localeCompare(left.savedAt ?? ""));
}

/**
 * Returns the default checkpoint path for the inputs as the user gave them (files, folders, `-`):
 * `.koala-replay/state-<hash>.json` under `cwd`. The hash covers the inputs' absolute paths with
 * links resolved, sorted and without repeats, so a file added to an input folder keeps the name,
 * and so do another spelling or order of the same inputs.
 */
export function defaultStatePath(inputs: readonly string[], cwd: string): string {
  const paths = [...new Set(inputs.map((input) => (input === STDIN_INPUT ? STDIN_INPUT : canonicalPath(cwd, input))))].sort();
  return statePathForHash(cwd, paths);
}

/**
 * Returns the default checkpoint path of earlier versions, which hashed the files read, in the
 * order read, rather than the inputs as given. Only `--resume` looks for it.
 */
export function legacyStatePath(filesRead: readonly string[], cwd: string): string {
  return statePathForHash(
    cwd,
    filesRead.map((input) => (input === STDIN_INPUT ? STDIN_INPUT : canonicalPath(cwd, input))),
  );
}

function statePathForHash(cwd: string, paths: readonly string[]): string {
  const hash = createHash("sha256");
  for (const path of paths) {
    hash.update(path);
    hash.update("\n");
  }
  return join(cwd, ".koala-replay", `state-${hash.digest("hex").slice(0, 16)}.json`);
}

/** Returns the default dead-letter path for a state file: the same folder and name, `.dead-letters.jsonl`. */
export function defaultDeadLetterPath(statePath: string): string {
  const name = basename(statePath).replace(/\.json$/, "");
  return join(dirname(statePath), `${name}.dead-letters.jsonl`);
}

/**
 * Tracks, per input, which records are done (every entry delivered or dead-lettered) and writes
 * that to the state file atomically. stdin and pipes are not tracked, because they cannot be read
 * again: a second read gets other bytes, or none.
 */
export class Checkpoint {
  /** Progress by the input's absolute path, so that `a.jsonl` and `./a.jsonl` are one input. */
  private readonly inputs = new Map<string, InputProgress>();
  /** Absolute paths of the input names met so far, as the run was given them. */
  private readonly absolutePaths = new Map<string, string>();
  private lastName: string | undefined;
  private lastInput: InputProgress | undefined;
  private dirty = false;
  /** Whether `resume` was asked for and a state file was found to resume from. */
  readonly resumed: boolean;
  /** Whether this run, with `restart`, replaces the state file of a run that did not finish, or one that cannot be read. */
  readonly replacesUnfinishedRun: boolean;
  /** Problem with the state file that this run replaces with `restart`, when it cannot be read as one. */
  readonly replacedInvalidStateFile: string | undefined;
  /** Whether the resumed state file was written with other settings deciding the entries of an event. */
  readonly entrySettingsChanged: boolean;
  /**
   * The groups of `entrySettingHashes` that changed, when `entrySettingsChanged`. Undefined when the
   * resumed state file kept one hash for all settings, so that the changed ones are unknown.
   */
  readonly changedEntrySettings: readonly string[] | undefined;
  /** Whether the resumed state file is of a version that did not record the endpoint and key, so they could not be checked. */
  readonly destinationUnchecked: boolean;
  /** Set in a dry run (which writes no state file) whose destination differs from the resumed state file's, which a real run would reject. */
  readonly destinationMismatch: DestinationMismatchError | undefined;
  /**
   * Set when this run resumes with another key than the one Koala rejected to stop the last run, as
   * the corrected key of the same project: the destination that the state file recorded.
   */
  readonly rejectedKeyReplaced: Destination | undefined;
  /**
   * The inputs that the resumed state names and this run does not read: files removed from an input
   * folder, deleted, or not given this time. Their records are kept as they were.
   */
  readonly inputsNotRead: InputNotRead[] = [];
  private finished = false;
  /** Inputs as the run names them that can be read only once, which are not tracked. */
  private readonly untracked: ReadonlySet<string>;

  private readonly entrySettingsHash: string | undefined;
  private readonly entrySettingHashes: Readonly<Record<string, string>> | undefined;
  private readonly destination: Destination | undefined;
  /**
   * Destination that runs of this state delivered entries to, which the state file records: the
   * resumed one's, until this run delivers. A run stopped by a wrong key or endpoint delivers
   * nothing, so a resume with the right one is not rejected.
   */
  private deliveredTo: Destination | undefined;
  /** Whether Koala rejected the key of `deliveredTo` since it last accepted an entry, as `StateFile.publicKeyRejected`. */
  private publicKeyRejected: boolean;
  /** The identity graph that the resumed state recorded, and the no-identity records it counted. */
  private readonly previousGraph: { resolved: ResolvedIds | undefined; noIdentityEvents: number };
  /** The identity graph that the state file records, as `StateFile.identityGraph`. */
  private recordedGraph: ResolvedIds | undefined;
  /** The digest that the state file records as `StateFile.identityGraphWarned`. */
  private warnedGraphDigest: string | undefined;
  /** The dead-letter file of the resumed state, with its length when that state was saved. */
  readonly resumedDeadLetterFile: DeadLetterFileLength | undefined;
  /**
   * Entries that the earlier runs of the resumed state dead-lettered, as `StateFile.deadLetteredEntries`:
   * 0 when this run does not resume, undefined when the resumed state file did not count them.
   */
  readonly earlierDeadLetteredEntries: number | undefined;
  /**
   * The dead-letter files of the earlier runs of the resumed state, with what resends did with their
   * entries: undefined when this run does not resume, or the state file did not count its dead letters.
   */
  readonly earlierDeadLetterFiles: readonly EarlierDeadLetterFile[] | undefined;
  /** The dead-letter files that the state file lists, as `StateFile.deadLetterFiles`, before this run's are added. */
  private readonly deadLetterFileRecords: readonly DeadLetterFileRecord[] | undefined;
  /** Origin of the last record that `noteUnidentified` named, until `begin` takes it. */
  private unidentifiedOrigin: RecordOrigin | undefined;
  private readonly resumePath: string | undefined;

  /** `path` is the state file that `save` writes, or undefined when nothing is written (a dry run). */
  constructor(
    readonly path: string | undefined,
    inputNames: readonly string[],
    private readonly cwd: string,
    options: CheckpointOptions,
  ) {
    const { resume, restart = false } = options;
    this.entrySettingsHash = options.entrySettingsHash;
    this.entrySettingHashes = options.entrySettingHashes;
    this.destination = options.destination;
    const resumePath = options.resumePath ?? path;
    this.resumePath = resumePath;
    // stat does not open a pipe, so no byte of it is lost here.
    const readOnce = findReadOnceInputs(inputNames);
    if (resume && readOnce.length > 0) {
      throw cannotResumeReadOnce(readOnce);
    }
    this.untracked = new Set(readOnce.map((input) => input.input));
    const previous = resume && resumePath !== undefined ? readAbsoluteStateFile(resumePath, cwd) : undefined;
    this.resumed = previous !== undefined;
    const recorded = previous === undefined ? undefined : readDestination(previous);
    this.publicKeyRejected = previous?.publicKeyRejected === true;
    if (recorded !== undefined && recorded !== null && this.destination !== undefined && destinationsDiffer(recorded, this.destination)) {
      // Koala's public key names the project: it is the {public_key} of /web/projects/{public_key},
      // and no other project id reaches a client. So another key means another project, whose
      // events a resume would skip, unless Koala rejected the recorded key to stop the last run.
      // That key can deliver nothing more, so a resume has to use another one, most likely the key
      // regenerated for the same project. Only then is another key taken as the same destination,
      // with a warning that names both keys masked. The endpoint must still match.
      if (this.publicKeyRejected && recorded.endpoint === this.destination.endpoint) {
        this.rejectedKeyReplaced = recorded;
      } else {
        const mismatch = new DestinationMismatchError(resumePath as string, recorded, this.destination);
        // A dry run sends nothing, so it shows what a resume would send and only warns.
        if (path !== undefined) {
          throw mismatch;
        }
        this.destinationMismatch = mismatch;
      }
    }
    this.destinationUnchecked = previous !== undefined && recorded === undefined;
    this.deliveredTo = recorded ?? undefined;
    const previousGraph = isResolvedIds(previous?.identityGraph) ? previous?.identityGraph : undefined;
    this.previousGraph = { resolved: previousGraph, noIdentityEvents: countNoIdentityEvents(previous) };
    this.recordedGraph = previousGraph;
    this.warnedGraphDigest = previousGraph === undefined ? undefined : stringOrUndefined(previous?.identityGraphWarned);
    this.resumedDeadLetterFile = isDeadLetterFileLength(previous?.deadLetterFile) ? previous?.deadLetterFile : undefined;
    this.earlierDeadLetteredEntries = previous === undefined ? 0 : readDeadLetteredEntries(previous, this.resumedDeadLetterFile);
    const records = previous === undefined ? [] : readDeadLetterFileRecords(previous);
    if (previous !== undefined && records !== undefined && resumePath !== undefined) {
      const checked = checkResends(records, { statePath: resolve(cwd, resumePath), cwd, readState: (statePath) => readAbsoluteStateFile(statePath, cwd) });
      this.deadLetterFileRecords = checked.records;
      this.earlierDeadLetterFiles = checked.files;
    } else {
      this.deadLetterFileRecords = records;
      this.earlierDeadLetterFiles = undefined;
    }
    const previousHash = previous?.entrySettingsHash;
    this.entrySettingsChanged = previousHash !== undefined && this.entrySettingsHash !== undefined && previousHash !== this.entrySettingsHash;
    this.changedEntrySettings = this.entrySettingsChanged ? findChangedGroups(previous?.entrySettingHashes, this.entrySettingHashes) : undefined;
    // A run with stdin or a pipe among its inputs cannot be resumed, so there is no resume to suggest.
    const unfinished = !resume && path !== undefined && readOnce.length === 0 ? readReplacedState(path, restart) : undefined;
    if (unfinished !== undefined && !restart) {
      throw new UnfinishedRunError(path as string, unfinished.savedAt);
    }
    this.replacesUnfinishedRun = unfinished !== undefined;
    this.replacedInvalidStateFile = unfinished?.invalid;
    const trackedPaths = inputNames.filter((name) => !this.untracked.has(name)).map((name) => this.absolutePath(name));
    for (const name of trackedPaths) {
      this.inputs.set(name, this.createInputProgress(name, previous));
    }
    // The state may name files that are not in `inputNames`: files of a folder given as an input
    // (checked now, before anything is sent), and inputs this run does not read, which are kept.
    for (const name of Object.keys(previous?.inputs ?? {})) {
      if (!this.inputs.has(name)) {
        const covered = trackedPaths.some((path) => name.startsWith(path.endsWith(sep) ? path : `${path}${sep}`));
        const read = covered && existsSync(name);
        const progress = read ? this.createInputProgress(name, previous) : carryInputProgress(name, previous);
        this.inputs.set(name, progress);
        if (!read) {
          this.inputsNotRead.push({ path: name, undeliveredEvents: progress.carriedNotDone.size, readToEnd: progress.readByFinishedRun });
        }
      }
    }
  }

  /** Returns whether a previous run finished the record. */
  isDone(origin: RecordOrigin): boolean {
    if (origin.input === STDIN_INPUT || this.untracked.has(origin.input)) {
      return false;
    }
    const input = this.inputs.get(this.absolutePath(origin.input));
    if (input === undefined) {
      return false;
    }
    return origin.line <= input.previousDoneThrough && !input.carriedNotDone.has(origin.line);
  }

  /**
   * Compares the identity graph of this run with the one the resumed state recorded, and records the
   * graph for the next run. Returns what earlier runs skipped as no-identity when this run's graph
   * resolves other ids, so that some of those records could now be sent.
   */
  useIdentityGraph(current: ResolvedIds): NoIdentityRecordsLeft | undefined {
    const { resolved: previous, noIdentityEvents } = this.previousGraph;
    // The records counted were skipped with the recorded graph, so it stays while they are counted.
    // The next save writes the graph: a run that reads no record writes no state file.
    if (previous === undefined || noIdentityEvents === 0) {
      this.recordedGraph = current;
    }
    if (previous === undefined || noIdentityEvents === 0 || current.idsWithEmail === 0 || previous.digest === current.digest) {
      return undefined;
    }
    // The records stay unsent on every resume until a restart, but the warning is printed once per
    // graph that could give them an email: the summary still counts them on later resumes.
    const warnedBefore = this.warnedGraphDigest === current.digest;
    if (!warnedBefore) {
      this.warnedGraphDigest = current.digest;
      this.dirty = true;
    }
    return { events: noIdentityEvents, idsBefore: previous.idsWithEmail, idsNow: current.idsWithEmail, warnedBefore };
  }

  /** Notes that some entries of the record at `origin` have no identity; the `begin` that follows for it counts the record. */
  noteUnidentified(origin: RecordOrigin): void {
    this.unidentifiedOrigin = origin;
  }

  /** Records that a record was read; returns its progress when it has entries to wait for. */
  begin(origin: RecordOrigin, entryCount: number): RecordProgress | undefined {
    // Without a state file (a dry run) nothing reads the progress, and tracking it costs a Map entry
    // per record. Only a record with entries that earlier runs dead-lettered or delivered gets one,
    // so that a dry run prints what a resume would send, without those entries.
    if (this.path === undefined) {
      return this.beginWithoutStateFile(origin, entryCount);
    }
    const input = this.inputFor(origin.input);
    if (input === undefined) {
      return undefined;
    }
    if (origin.line > input.doneThrough) {
      input.doneThrough = origin.line;
    }
    // A line that an earlier run left not done was counted by that run.
    if (origin === this.unidentifiedOrigin) {
      this.unidentifiedOrigin = undefined;
      if (!input.carriedNotDone.has(origin.line)) {
        input.noIdentityEvents += 1;
      }
    }
    this.dirty = true;
    const deadLettered = input.carriedDeadLettered.get(origin.line);
    if (deadLettered !== undefined) {
      input.carriedDeadLettered.delete(origin.line);
    }
    const delivered = input.carriedDelivered.get(origin.line);
    if (delivered !== undefined) {
      input.carriedDelivered.delete(origin.line);
    }
    if (entryCount === 0) {
      input.carriedNotDone.delete(origin.line);
      if (input.doneWithoutEntries !== undefined) {
        input.doneWithoutEntries += 1;
      }
      return undefined;
    }
    const progress: RecordProgress = { input, line: origin.line, remaining: entryCount, deadLettered, delivered };
    input.inProgress.set(origin.line, progress);
    return progress;
  }

  private beginWithoutStateFile(origin: RecordOrigin, entryCount: number): RecordProgress | undefined {
    const input = this.inputFor(origin.input);
    const deadLettered = input?.carriedDeadLettered.get(origin.line);
    const delivered = input?.carriedDelivered.get(origin.line);
    if (input === undefined || (deadLettered === undefined && delivered === undefined) || entryCount === 0) {
      return undefined;
    }
    return { input, line: origin.line, remaining: entryCount, deadLettered, delivered };
  }

  /** Records that the run read every input and settled every entry, for the next run to know. */
  markFinished(): void {
    this.finished = true;
    const notRead = new Set(this.inputsNotRead.map((input) => input.path));
    for (const input of this.inputs.values()) {
      if (!notRead.has(input.name)) {
        input.readByFinishedRun = true;
      }
    }
    this.dirty = true;
  }

  /** Records that this run delivered entries, so that the state file names its destination. */
  noteDelivered(): void {
    if (this.deliveredTo !== this.destination) {
      this.deliveredTo = this.destination;
      this.publicKeyRejected = false;
      this.dirty = true;
    }
  }

  /**
   * Records that Koala rejected the key (401, 403 or 404, confirmed by GET /auth) after runs of this
   * state delivered entries, so that a resume with the corrected key is not taken for a run to
   * another project. Without deliveries the state file records no destination, and any key resumes.
   */
  notePublicKeyRejected(): void {
    if (this.deliveredTo !== undefined && !this.publicKeyRejected) {
      this.publicKeyRejected = true;
      this.dirty = true;
    }
  }

  /**
   * Marks one entry of the record dead-lettered, its line being in the dead-letter file. While other
   * entries of the record are on their way, the state file lists its key, for a resume to skip it.
   */
  completeDeadLetteredEntry(progress: RecordProgress, key: string): void {
    if (progress.input.deadLetteredEntries !== undefined) {
      progress.input.deadLetteredEntries += 1;
    }
    if (progress.remaining > 1) {
      (progress.deadLettered ??= []).push(key);
    }
    this.completeEntry(progress);
  }

  /**
   * Marks one entry of the record delivered. While other entries of the record are on their way,
   * the state file lists its key, so that a resume does not send it again.
   */
  completeDeliveredEntry(progress: RecordProgress, entry: Pick<KoalaEntry, "mappingName" | "messageId">): void {
    if (progress.remaining > 1) {
      (progress.delivered ??= []).push(deadLetterKey(entry.mappingName, entry.messageId));
    }
    this.completeEntry(progress);
  }

  /**
   * Returns whether an earlier run of the state delivered or dead-lettered this entry of the record
   * while other entries of it were on their way, so that this run neither sends it nor writes its
   * dead letter again.
   */
  isEntrySettledEarlier(progress: RecordProgress, entry: Pick<KoalaEntry, "mappingName" | "messageId">): boolean {
    if (progress.deadLettered === undefined && progress.delivered === undefined) {
      return false;
    }
    const key = deadLetterKey(entry.mappingName, entry.messageId);
    return progress.deadLettered?.includes(key) === true || progress.delivered?.includes(key) === true;
  }

  /** Marks one entry of the record settled. Callers that must keep the entry's key for a resume record it first. */
  completeEntry(progress: RecordProgress): void {
    progress.remaining -= 1;
    if (progress.remaining === 0) {
      progress.input.inProgress.delete(progress.line);
      progress.input.carriedNotDone.delete(progress.line);
      this.dirty = true;
    }
  }

  /**
   * Writes the state file atomically (a temporary file, fsync, rename, then fsync of the folder)
   * when something changed since the last write. Returns whether it wrote. `deadLetterFile` is the
   * run's dead-letter file with its length now, after every line in it reached the disk, and
   * `deadLetteredEntries` the entries this run dead-lettered until now, whose lines are in it.
   */
  save(deadLetterFile?: DeadLetterFileLength, deadLetteredEntries?: number): boolean {
    if (this.path === undefined || !this.dirty) {
      return false;
    }
    const state: StateFile = {
      version: STATE_VERSION,
      savedAt: new Date().toISOString(),
      finished: this.finished,
      ...(this.entrySettingsHash === undefined ? {} : { entrySettingsHash: this.entrySettingsHash }),
      ...(this.entrySettingHashes === undefined ? {} : { entrySettingHashes: { ...this.entrySettingHashes } }),
      ...describeDestinationFields(this.deliveredTo),
      ...(this.publicKeyRejected && this.deliveredTo !== undefined ? { publicKeyRejected: true } : {}),
      ...(this.recordedGraph === undefined ? {} : { identityGraph: this.recordedGraph }),
      ...(this.warnedGraphDigest === undefined ? {} : { identityGraphWarned: this.warnedGraphDigest }),
      ...(deadLetterFile === undefined ? {} : { deadLetterFile }),
      ...(deadLetteredEntries === undefined || this.earlierDeadLetteredEntries === undefined ? {} : { deadLetteredEntries: this.earlierDeadLetteredEntries + deadLetteredEntries }),
      ...(this.deadLetterFileRecords === undefined ? {} : { deadLetterFiles: addRunDeadLetters(this.deadLetterFileRecords, deadLetterFile, deadLetteredEntries ?? 0) }),
      inputs: {},
    };
    for (const input of this.inputs.values()) {
      state.inputs[input.name] = describeInput(input);
    }
    writeFileAtomically(this.path, `${JSON.stringify(state)}\n`);
    this.dirty = false;
    return true;
  }

  private inputFor(name: string): InputProgress | undefined {
    if (this.lastName === name) {
      return this.lastInput;
    }
    if (name === STDIN_INPUT || this.untracked.has(name)) {
      return undefined;
    }
    const path = this.absolutePath(name);
    let input = this.inputs.get(path);
    if (input === undefined) {
      input = this.createInputProgress(path, undefined);
      this.inputs.set(path, input);
    }
    this.lastName = name;
    this.lastInput = input;
    return input;
  }

  private absolutePath(name: string): string {
    let path = this.absolutePaths.get(name);
    if (path === undefined) {
      path = canonicalPath(this.cwd, name);
      this.absolutePaths.set(name, path);
    }
    return path;
  }

  /**
   * Creates the progress of the input at the absolute path `name`, carrying what `previous` recorded
   * for it. Raises StateMismatchError when the file changed since. A file that no longer exists
   * cannot be read, so nothing of it is skipped wrongly, and its record is kept as it was.
   */
  private createInputProgress(name: string, previous: StateFile | undefined): InputProgress {
    const fingerprint = fingerprintFile(name);
    const recorded = previous?.inputs[name];
    if (recorded !== undefined && recorded.fingerprint !== null) {
      if (fingerprint === undefined && !existsSync(name)) {
        return carryInputProgress(name, previous);
      }
      const change = describeFingerprintChange(recorded.fingerprint, fingerprint);
      if (change !== undefined) {
        throw new StateMismatchError(name, change, this.resumePath ?? "");
      }
    }
    return {
      name,
      fingerprint,
      doneThrough: recorded?.doneThrough ?? 0,
      previousDoneThrough: recorded?.doneThrough ?? 0,
      carriedNotDone: new Set(recorded?.notDone ?? []),
      carriedDeadLettered: readLineKeys(recorded?.deadLettered),
    carriedDelivered: readLineKeys(recorded?.delivered),
      inProgress: new Map(),
      readByFinishedRun: false,
      noIdentityEvents: recorded?.noIdentityEvents ?? 0,
      doneWithoutEntries: readDoneWithoutEntries(recorded),
      deadLetteredEntries: readInputDeadLetteredEntries(recorded),
    };
  }

  /**
   * Returns how many of the records that earlier runs finished, in the inputs this run reads, had no
   * entry to send: skipped or invalid. Undefined when a state file of an earlier version did not
   * count them. Read before this run finishes any record.
   */
  countEarlierRecordsWithoutEntries(): number | undefined {
    const notRead = new Set(this.inputsNotRead.map((input) => input.path));
    let total = 0;
    for (const input of this.inputs.values()) {
      if (notRead.has(input.name) || input.previousDoneThrough === 0) {
        continue;
      }
      if (input.doneWithoutEntries === undefined) {
        return undefined;
      }
      total += input.doneWithoutEntries;
    }
    return total;
  }
}

/** Reads the count of an input's dead-lettered entries: 0 for an input that no run finished a record of, undefined when an older state file did not count them. */
function readInputDeadLetteredEntries(recorded: StateFileInput | undefined): number | undefined {
  if (recorded === undefined || recorded.doneThrough === 0) {
    return 0;
  }
  return typeof recorded.deadLetteredEntries === "number" ? recorded.deadLetteredEntries : undefined;
}

/** Reads the count of records done without entries, 0 for an input that no run finished a record of, and undefined when an older state file did not count them. */
function readDoneWithoutEntries(recorded: StateFileInput | undefined): number | undefined {
  if (recorded === undefined || recorded.doneThrough === 0) {
    return 0;
  }
  return typeof recorded.doneWithoutEntries === "number" ? recorded.doneWithoutEntries : undefined;
}

/**
 * Returns the names of the groups whose hashes differ, a group missing on one side included, or
 * undefined when `recorded` is not a record of hashes (a state file of an earlier version).
 */
function findChangedGroups(recorded: unknown, current: Readonly<Record<string, string>> | undefined): string[] | undefined {
  if (!isObject(recorded) || current === undefined) {
    return undefined;
  }
  const names = new Set([...Object.keys(current), ...Object.keys(recorded)]);
  return [...names].filter((name) => recorded[name] !== current[name]);
}

/** Adds up the records of every input of `state` that were skipped as no-identity. */
function countNoIdentityEvents(state: StateFile | undefined): number {
  let total = 0;
  for (const input of Object.values(state?.inputs ?? {})) {
    if (typeof input.noIdentityEvents === "number") {
      total += input.noIdentityEvents;
    }
  }
  return total;
}

/**
 * Returns the destination that `state` records: null while no run of it delivered an entry, and
 * undefined for a state file of an earlier version, which recorded none.
 */
function readDestination(state: StateFile): Destination | null | undefined {
  if (state.endpoint === null) {
    return null;
  }
  if (typeof state.endpoint !== "string") {
    return undefined;
  }
  return {
    endpoint: state.endpoint,
    publicKeySha256: typeof state.publicKeySha256 === "string" ? state.publicKeySha256 : undefined,
    publicKeyMasked: typeof state.publicKeyMasked === "string" ? state.publicKeyMasked : undefined,
  };
}

function describeDestinationFields(destination: Destination | undefined): Pick<StateFile, "endpoint" | "publicKeySha256" | "publicKeyMasked"> {
  if (destination === undefined) {
    return { endpoint: null };
  }
  return {
    endpoint: destination.endpoint,
    ...(destination.publicKeySha256 === undefined ? {} : { publicKeySha256: destination.publicKeySha256 }),
    ...(destination.publicKeyMasked === undefined ? {} : { publicKeyMasked: destination.publicKeyMasked }),
  };
}

/**
 * Returns the progress of an input that this run does not read, as `previous` recorded it, so that
 * the state file keeps it, with its fingerprint, for a later run that reads the input again.
 */
function carryInputProgress(name: string, previous: StateFile | undefined): InputProgress {
  const recorded = previous?.inputs[name];
  return {
    name,
    fingerprint: recorded?.fingerprint ?? undefined,
    doneThrough: recorded?.doneThrough ?? 0,
    previousDoneThrough: recorded?.doneThrough ?? 0,
    carriedNotDone: new Set(recorded?.notDone ?? []),
    carriedDeadLettered: readLineKeys(recorded?.deadLettered),
    carriedDelivered: readLineKeys(recorded?.delivered),
    inProgress: new Map(),
    // NOTE: a state file written before the field existed records only whether its own run finished,
    // which may not be the run that last read this input.
    readByFinishedRun: recorded?.readByFinishedRun ?? previous?.finished === true,
    noIdentityEvents: recorded?.noIdentityEvents ?? 0,
    doneWithoutEntries: readDoneWithoutEntries(recorded),
    deadLetteredEntries: readInputDeadLetteredEntries(recorded),
  };
}

/**
 * Explains why a run that reads stdin or a pipe cannot be resumed. The checkpoint counts lines of
 * each input, and a second read of a pipe gives other bytes, or none. Skipping the same line
 * numbers again would skip events that were never sent.
 */
function cannotResumeReadOnce(inputs: readonly ReadOnceInput[]): CannotResumeError {
  if (inputs.length === 1 && inputs[0]?.input === STDIN_INPUT) {
    return new CannotResumeError(
      "Cannot resume a run that reads standard input (events piped in, or the input -), because standard input cannot be read again from where the run stopped.",
      "Give the events as a file argument instead of piping them in, as in \"send events.jsonl\", so that a stopped run can be resumed, or run without --resume to send everything again (Koala ignores entries whose message_id it already has).",
    );
  }
  const names = nameReadOnceInputs(inputs);
  const pronoun = inputs.length === 1 ? "it" : "they";
  return new CannotResumeError(
    `Cannot resume a run that reads ${names}, because ${pronoun} cannot be read again from where the run stopped.`,
    "Save the events to a regular file and give that file, or run without --resume to send everything again (Koala ignores entries whose message_id it already has).",
  );
}

function describeInput(input: InputProgress): StateFileInput {
  const notDone = new Set(input.carriedNotDone);
  const deadLettered: Record<string, string[]> = {};
  const delivered: Record<string, string[]> = {};
  for (const [line, keys] of input.carriedDeadLettered) {
    if (notDone.has(line)) {
      deadLettered[line] = keys;
    }
  }
  for (const [line, keys] of input.carriedDelivered) {
    if (notDone.has(line)) {
      delivered[line] = keys;
    }
  }
  for (const [line, progress] of input.inProgress) {
    notDone.add(line);
    if (progress.deadLettered !== undefined) {
      deadLettered[line] = progress.deadLettered;
    }
    if (progress.delivered !== undefined) {
      delivered[line] = progress.delivered;
    }
  }
  const lines = [...notDone].sort((left, right) => left - right);
  const first = lines[0];
  return {
    fingerprint: input.fingerprint ?? null,
    doneThrough: input.doneThrough,
    watermark: first === undefined ? input.doneThrough : first - 1,
    notDone: lines,
    ...(Object.keys(deadLettered).length === 0 ? {} : { deadLettered }),
    ...(Object.keys(delivered).length === 0 ? {} : { delivered }),
    readByFinishedRun: input.readByFinishedRun,
    noIdentityEvents: input.noIdentityEvents,
    ...(input.doneWithoutEntries === undefined ? {} : { doneWithoutEntries: input.doneWithoutEntries }),
    ...(input.deadLetteredEntries === undefined ? {} : { deadLetteredEntries: input.deadLetteredEntries }),
  };
}

/**
 * Reads the entry keys that a state file lists by line not done (`deadLettered` or `delivered`),
 * leaving out what is not a list of strings.
 */
function readLineKeys(listed: Record<string, string[]> | undefined): Map<number, string[]> {
  const keys = new Map<number, string[]>();
  if (!isObject(listed)) {
    return keys;
  }
  for (const [line, value] of Object.entries(listed)) {
    if (Array.isArray(value) && value.every((key) => typeof key === "string")) {
      keys.set(Number(line), value);
    }
  }
  return keys;
}

/**
 * Returns the absolute path of an input with links resolved, so that every way of naming a file
 * finds its progress. A path that does not exist (any more) is only made absolute.
 */
function canonicalPath(cwd: string, name: string): string {
  const path = resolve(cwd, name);
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/**
 * Reads a state file with its inputs keyed by absolute path. Files written before inputs were keyed
 * that way name them as they were given, relative to the working directory of that run, which is
 * taken to be `cwd`.
 */
function readAbsoluteStateFile(path: string, cwd: string): StateFile | undefined {
  const state = readStateFile(path);
  if (state === undefined) {
    return undefined;
  }
  const inputs: Record<string, StateFileInput> = {};
  for (const [name, input] of Object.entries(state.inputs)) {
    inputs[name === STDIN_INPUT ? name : canonicalPath(cwd, name)] = input;
  }
  return { ...state, inputs };
}

function readStateFile(path: string): StateFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    // ENOTDIR: a folder on the way is a file, so no state file can be there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      return undefined;
    }
    throw new InvalidStateFileError(path, `cannot be read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidStateFileError(path, `is not valid JSON (${(error as Error).message})`);
  }
  const version = isObject(parsed) ? parsed["version"] : undefined;
  if (typeof version === "number" && Number.isInteger(version) && (version < FIRST_STATE_VERSION || version > STATE_VERSION)) {
    throw new InvalidStateFileError(
      path,
      `has state file version ${version}, and this version of koala-replay reads versions ${FIRST_STATE_VERSION} to ${STATE_VERSION}, so it cannot tell which events that run finished (the version that wrote the file can)`,
    );
  }
  const problem = findStateFileProblem(parsed, FIRST_STATE_VERSION, STATE_VERSION);
  if (problem !== undefined) {
    const found = problem.found === undefined ? "it is missing" : `found ${problem.found}`;
    throw new InvalidStateFileError(path, `is not a valid koala-replay state file: ${problem.path} must be ${problem.expected}, ${found}`);
  }
  const state = parsed as StateFile;
  return state.version === FIRST_STATE_VERSION ? upgradeFirstVersion(state) : state;
}

/**
 * Reads a version 1 state as version 2. Its lines up to the first one not done are done under
 * either numbering of JSON events, because the current number of an event is never lower than the
 * number it had then. The lines done after that one are sent again, and Koala ignores the copies.
 */
function upgradeFirstVersion(state: StateFile): StateFile {
  const inputs: Record<string, StateFileInput> = {};
  for (const [name, input] of Object.entries(state.inputs)) {
    const firstNotDone = input.notDone.reduce((lowest, line) => Math.min(lowest, line), Number.POSITIVE_INFINITY);
    const doneThrough = Math.min(input.doneThrough, firstNotDone - 1);
    inputs[name] = { ...input, doneThrough, watermark: doneThrough, notDone: [] };
  }
  return { ...state, version: STATE_VERSION, inputs };
}

/**
 * Returns the state in `path` when it is of a run that did not finish, for the listing of
 * `listUnfinishedCheckpoints`. A file that cannot be read as a state file is left out.
 */
function readUnfinishedRun(path: string): StateFile | undefined {
  try {
    const state = readStateFile(path);
    return state !== undefined && state.finished !== true ? state : undefined;
  } catch (error) {
    if (error instanceof InvalidStateFileError) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Reads the state file that a run without `resume` is about to replace: what it replaces when it is
 * of a run that did not finish, or undefined when there is none or that run finished. A file that
 * cannot be read as a state file may be the only record of an unfinished run, so it raises
 * InvalidStateFileError, unless `restart` requests that it be replaced whatever it contains.
 */
function readReplacedState(path: string, restart: boolean): ReplacedState | undefined {
  try {
    const state = readStateFile(path);
    return state !== undefined && state.finished !== true ? { savedAt: typeof state.savedAt === "string" ? state.savedAt : undefined } : undefined;
  } catch (error) {
    if (restart && error instanceof InvalidStateFileError) {
      return { savedAt: undefined, invalid: error.problem };
    }
    throw error;
  }
}

/** The state file of a run that did not finish, or one that cannot be read, which a run with `restart` replaces. */
interface ReplacedState {
  savedAt: string | undefined;
  /** Problem with the file, as `InvalidStateFileError.problem`, when it cannot be read as a state file. */
  invalid?: string;
}

/**
 * Reads how many entries the runs of the state `previous` dead-lettered. A state file without the
 * count is of an earlier version, and counts 0 only when its dead-letter file was empty at the save.
 */
function readDeadLetteredEntries(previous: StateFile, deadLetterFile: DeadLetterFileLength | undefined): number | undefined {
  const recorded = previous.deadLetteredEntries;
  if (Number.isSafeInteger(recorded) && (recorded as number) >= 0) {
    return recorded;
  }
  return deadLetterFile?.bytes === 0 ? 0 : undefined;
}

function isDeadLetterFileLength(value: unknown): value is DeadLetterFileLength {
  return isObject(value) && typeof value["path"] === "string" && Number.isSafeInteger(value["bytes"]) && (value["bytes"] as number) >= 0;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isResolvedIds(value: unknown): value is ResolvedIds {
  return isObject(value) && typeof value["idsWithEmail"] === "number" && typeof value["digest"] === "string";
}

/**
 * Replaces `path` with `content` so that a crash leaves either the old file or the new one, never a
 * mix. A symbolic link is written through, to its target, so that the link stays.
 */
export function writeFileAtomically(path: string, content: string): void {
  const target = linkTarget(path);
  const folder = dirname(target);
  mkdirSync(folder, { recursive: true });
  const temporaryPath = `${target}.${process.pid}.tmp`;
  const descriptor = openSync(temporaryPath, "w", 0o600);
  try {
    try {
      writeAll(descriptor, Buffer.from(content, "utf8"));
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporaryPath, target);
  } catch (error) {
    // A failed save (disk full, a folder in the way) removes its temporary file. A later run has
    // another process id, so it would never replace the file and it would stay there.
    rmSync(temporaryPath, { force: true });
    throw error;
  }
  const folderDescriptor = openSync(folder, "r");
  try {
    fsyncSync(folderDescriptor);
  } finally {
    closeSync(folderDescriptor);
  }
}

/**
 * Returns the file that `path` names with symbolic links resolved. For a link to a file not created
 * yet, returns the link's target, and for a file not created yet, `path`.
 */
export function linkTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Missing, or a link whose target is missing.
  }
  try {
    return resolve(dirname(path), readlinkSync(path));
  } catch {
    return path;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
