import { Writable } from "node:stream";
import { isDeepStrictEqual } from "node:util";
import { defaultMapping } from "../../koala/fields.js";
import { runReplay } from "../../pipeline/run-replay.js";
import { dirname, resolve } from "node:path";
import { CheckpointNotFoundError, countUndeliveredEarlier, FileInUseError, InvalidStateFileError, lockRunFile, UnfinishedRunError, type FileLock, type RunFailureReason, type UnfinishedCheckpoint } from "../../delivery/index.js";
import { IdentityGraphWriteError } from "../../identity/index.js";
import { displayPath } from "../../reporting/input-names.js";
import { formatCount } from "../../reporting/count-format.js";
import { maskSecret, stringifyWithSecretMasked } from "../../reporting/mask.js";
import { hideEmails } from "../../reporting/email-mask.js";
import { escapeControlCharacters } from "../../reporting/style.js";
import { createProgress, PLAIN_LINE_INTERVAL_MS, shouldShowProgress } from "../../reporting/progress.js";
import type { ProgressSnapshot } from "../../reporting/progress-text.js";
import { checkOutputPath, checkReportPath, writeReportFile, type OutputFileKind } from "../../reporting/report-file.js";
import { NotSentFile } from "../../reporting/not-sent-file.js";
import { filesWritten, rejectFilesWrittenAtLockPaths, rejectFilesWrittenOverReadFiles, rejectNotSentFileOfEarlierRun, rejectNotSentPathInInputFolder } from "../send-files.js";
import { buildRunReport, type ReportedInterruption } from "../../reporting/run-report.js";
import { hideEmailsInReport } from "../../reporting/report-emails.js";
import type { NotSentFileResult, RunStats } from "../../reporting/run-stats.js";
import { formatSummary } from "../../reporting/summary-text.js";
import { textWidth } from "../../reporting/output-width.js";
import { formatWithTextWidth } from "../../reporting/wrap-text.js";
import { describeConfigWarnings, loadConfigOption } from "../config-file.js";
import { ExitCode, UsageError } from "../errors.js";
import { csvTableWarnings, describeFilterWarnings, ignoredIdentitiesWarning, resolveSendSettings, type RawSendOptions, type SendSettings } from "../send-options.js";
import { isStdinTerminal, terminalInputNotice } from "../stdin-input.js";
import { packageVersion } from "../version.js";
import { writeError, wrapStderrMessage } from "../stderr-message.js";
import { formatWarning } from "../warning.js";
import { DryRunStdout, isStderrSameAsStdout, onClosedStdout, stdoutWriteErrorCode, writeStderr } from "../stdout-pipe.js";
import { deadLetterResendCommand, rerunCommand, resumeCommand, resumeFromStateCommand, withoutResumeCommand } from "../rerun-commands.js";
import { toolCommand } from "../tool-command.js";
import { handleInterruptions, interruptedExitStatus, NO_CHECKPOINT_TEXT, notResumableText } from "../send-interruptions.js";
import { stopSendWhenLauncherGone } from "../launcher-watch.js";
import { listFilterFields } from "../../pipeline/compile-rules.js";
import { findCopiedInputs } from "../../inputs/copied-inputs.js";
import { expandInputs } from "../../inputs/expand-inputs.js";
import { askIfCopiedInput, describeCopiedInput } from "../../reporting/copied-input.js";

/** Runs `koala-replay send` and returns the exit status. */
export async function sendCommand(inputs: string[], raw: RawSendOptions): Promise<number> {
  const stdinIsTerminal = isStdinTerminal();
  const settings = resolveSendSettings(inputs, raw, process.env, stdinIsTerminal);
  const config = await loadConfigOption(settings.configPath);
  const excludeEmails = [...config.excludeEmails, ...settings.excludeEmails];
  rejectFilesWrittenOverReadFiles(settings, config.source === "presets" ? undefined : config.source);
  rejectFilesWrittenAtLockPaths(settings);
  const notSentOutput = settings.notSentPath === undefined ? [] : [{ path: settings.notSentPath, description: "the not-sent file" }];
  if (settings.reportPath !== undefined) {
    await checkReportPath(settings.reportPath, settings.inputs, [...filesWritten(settings), ...notSentOutput]);
  }
  if (settings.notSentPath !== undefined) {
    await checkOutputPath(settings.notSentPath, NOT_SENT_FILE, settings.inputs, filesWritten(settings));
    rejectNotSentPathInInputFolder(settings.notSentPath, settings.inputs);
    rejectNotSentFileOfEarlierRun(settings);
  }
  const notSentFile = settings.notSentPath === undefined ? undefined : new NotSentFile(settings.notSentPath, settings.publicKey);
  const mask = (text: string): string => maskSecret(text, settings.publicKey);
  const notice = terminalInputNotice(settings.inputs, stdinIsTerminal);
  if (notice !== undefined && !settings.quiet) {
    writeStderr(`${notice}\n`);
  }
  // A dry run that prints to the terminal scrolls its requests by there. A spinner would be redrawn
  // around every line, and that made such a run about 5 times slower when measured. Events typed
  // in the terminal would be drawn over by the spinner too.
  const requestsOnTerminal = settings.dryRun && process.stdout.isTTY === true;
  const progressEnabled = shouldShowProgress(process.stderr, process.env, settings) && !requestsOnTerminal && notice === undefined;
  // Where stderr is not a terminal, as in a CI log, a plain line every 30 s shows that a long run is alive.
  const plainLines = !progressEnabled && !settings.quiet && settings.progress && process.stderr.isTTY !== true && notice === undefined;
  const progress = await createProgress({
    // Through writeStderr, which keeps a line on a stderr shared with stdout out of the requests of a dry run.
    stream: plainLines ? new Writable({ write: (chunk: Buffer, _encoding, callback) => (writeStderr(chunk.toString("utf8")), callback()) }) : process.stderr,
    enabled: progressEnabled,
    dryRun: settings.dryRun,
    plainLineIntervalMs: plainLines ? PLAIN_LINE_INTERVAL_MS : undefined,
  });
  // The spinner is drawn only on a terminal that shows no requests, so the lines it logs cannot split one.
  const logLine = progressEnabled ? (line: string) => progress.log(line) : (line: string) => writeStderr(`${line}\n`);
  const warn = (message: string): void => {
    if (!settings.quiet) {
      logLine(formatWarning(mask(message)));
    }
  };

  for (const warning of optionWarnings(settings)) {
    warn(warning);
  }
  for (const warning of [...describeConfigWarnings(config), ...describeFilterWarnings(settings.filters)]) {
    warn(warning);
  }
  // Found before the run, so that a copy is named also when none of its events makes an entry.
  const copiedInputs = settings.quiet ? [] : await findCopiedInputs((await expandInputs(settings.inputs)).sources);
  for (const { copy, original, decompressed } of copiedInputs) {
    warn(describeCopiedInput(copy, original, decompressed));
  }
  // Warnings of the run can quote event data, such as an unreadable line, so emails are hidden in
  // them as in -v lines. The run's own note about an input whose every entry was a duplicate would
  // name a copy found above again.
  const warnOnRun = (message: string): void => {
    if (!copiedInputs.some(({ copy }) => message.startsWith(askIfCopiedInput(copy, "entry")))) {
      warn(hideEmails(message));
    }
  };

  // The counts of the last status update, which a second signal prints as the process exits.
  let latestSnapshot: ProgressSnapshot | undefined;
  const interruption = handleInterruptions(progress, logLine, settings, () => latestSnapshot);
  const stopLauncherWatch = stopSendWhenLauncherGone(interruption.signal, logLine);
  // A dry run stops reading when the reader of its requests goes away (`| head`), and reports
  // what it wrote. A real send writes only the --json report to stdout, and goes on without it.
  const dryRunStdout = settings.dryRun ? new DryRunStdout(process.stdout, isStderrSameAsStdout()) : undefined;
  onClosedStdout(() => {
    if (dryRunStdout !== undefined) {
      interruption.stop();
    }
  });
  let stats: RunStats;
  // Locked like the checkpoint, because two runs writing one not-sent file would splice their lines.
  let notSentLock: FileLock | undefined;
  try {
    notSentLock = settings.notSentPath === undefined ? undefined : lockRunFile(settings.notSentPath, "not-sent file", warn);
    stats = await runReplay(
      {
        inputs: settings.inputs,
        format: settings.format,
        csv: settings.csv,
        mappings: config.mappings,
        browserEvents: settings.browserEvents,
        filters: settings.filters,
        stitch: settings.stitch,
        identitiesFile: settings.identitiesFile,
        excludeEmails,
        dryRun: settings.dryRun,
        publicKey: settings.publicKey,
        endpoint: settings.endpoint,
        delivery: settings.delivery,
        userAgent: `koala-replay/${packageVersion()}`,
      },
      {
        stdout: dryRunStdout ?? process.stdout,
        warn: warnOnRun,
        signal: interruption.signal,
        verbose: createVerboseLog(settings, logLine),
        onProgress: (snapshot) => {
          latestSnapshot = snapshot;
          progress.update(snapshot);
        },
        onPhase: (description) => progress.phase(description),
        onStatePath: (statePath) => interruption.useStatePath(statePath),
        onNotSent: notSentFile === undefined ? undefined : (record) => notSentFile.write(record),
      },
    );
    stats.notSentFile = closeNotSentFile(notSentFile);
    // The write callbacks of the last requests, and the error of a closed pipe, come on the next turns.
    await new Promise((resolve) => setImmediate(resolve));
    await dryRunStdout?.waitForFlush();
  } catch (error) {
    if (error instanceof UnfinishedRunError) {
      throw unfinishedRunUsageError(error);
    }
    if (error instanceof FileInUseError) {
      throw new UsageError(`${error.message}. Nothing was read or sent`, error.hint);
    }
    if (error instanceof InvalidStateFileError) {
      throw invalidStateFileUsageError(error, settings);
    }
    if (error instanceof IdentityGraphWriteError) {
      // The first pass ends before delivery starts, so the run stopped before it sent anything.
      const outcome = settings.dryRun ? "Nothing was printed" : "Nothing was sent, and the checkpoint was left as it was";
      throw new UsageError(`${error.message}. ${outcome}`, `${error.hint}\n  then run the same command again`, ExitCode.ioError);
    }
    throw error instanceof CheckpointNotFoundError ? checkpointNotFoundUsageError(error, settings.dryRun) : error;
  } finally {
    progress.stop();
    stopLauncherWatch();
    interruption.dispose();
    // A run refused before it read anything leaves no file; one that stopped part-way keeps what it wrote.
    notSentFile?.close({ createEmpty: false });
    notSentLock?.release();
  }
  const outputClosedAfter = dryRunStdout?.closed === true ? dryRunStdout.requestsWritten : undefined;

  let exitStatus = exitStatusOf(stats, settings.dryRun);
  if (stats.notSentFile?.error !== undefined && OUTPUT_FAILURE_REPLACES.has(exitStatus)) {
    exitStatus = ExitCode.ioError;
  }
  // The width of warnings and errors too: COLUMNS when set, else the terminal's, else 80 columns.
  const summaryWidth = textWidth(process.stderr);
  if (!settings.quiet && !settings.json) {
    const summary = await formatWithTextWidth(() =>
      formatSummary(stats, {
        dryRun: settings.dryRun,
        browserEventsPolicy: settings.browserEventsText,
        inputs: settings.inputs,
        workingDirectory: process.cwd(),
        mappings: {
          total: config.mappings.length,
          enabled: config.mappings.filter((mapping) => mapping.enabled).length,
          fromConfigFile: config.source !== "presets",
          enabledNames: config.mappings.filter((mapping) => mapping.enabled).map((mapping) => mapping.name),
          sentAtFromTimestamp: config.mappings.filter((mapping) => isDeepStrictEqual(mapping.mapping["sent_at"], defaultMapping(mapping.action)["sent_at"])).map((mapping) => mapping.name),
        },
        resumable: settings.readOnceInputs.length === 0,
        outputClosedAfter,
        outputEndsInsideRequest: dryRunStdout?.endsInsideRequest === true,
        outputError: stdoutWriteErrorCode(),
        filterFields: listFilterFields(settings.filters),
        width: summaryWidth,
        command: toolCommand(),
        emailPatternSources: describeEmailPatternSources(config, settings.excludeEmails),
        ...(settings.stitch && settings.identitiesFile !== undefined ? { identitiesFile: settings.identitiesFile } : {}),
      }),
    );
    writeStderr(mask(summary));
    const resendFiles = deadLetterFilesToResend(stats);
    if (resendFiles.length > 0) {
      const command = deadLetterResendCommand(resendFiles.map((path) => displayPath(path, process.cwd())));
      writeStderr(`${wrapStderrMessage(`  to send the dead letters again once their cause is fixed:\n  ${mask(command)}`, summaryWidth)}\n`);
    }
  }
  if (stats.notSentFile?.error !== undefined) {
    const file = stats.notSentFile;
    writeError(
      `the not-sent file ${file.path} could not be written (${file.error}): ${formatCount(file.lines)} ${file.lines === 1 ? "line was" : "lines were"} written and ${formatCount(file.linesLost)} lost; the run itself finished as summarised above`,
      "free some space or choose another --not-sent path, then run the same command again with --dry-run to list every event that was not sent",
    );
  }
  const fatal = stats.delivery?.fatal;
  const notResumable = notResumableText(settings);
  let reportedInterruption: ReportedInterruption | undefined;
  if (fatal !== undefined) {
    // The message may end with an excerpt of Koala's response, which may quote an entry.
    const stopped = `stopped: ${hideEmails(mask(fatal.message))}`;
    if (notResumable === undefined) {
      // The printed command repeats this run's --endpoint, which may be the mistake.
      writeError(stopped, `${resumeHint(fatal.reason)}\n  ${mask(resumeCommand())}`);
    } else {
      const when = fatal.reason === "unavailable" ? "once Koala responds again" : "after fixing it";
      writeError(stopped, `${when}, run the command again. ${notResumable}`);
    }
    exitStatus = ExitCode.fatalApi;
  } else if (stdoutWriteErrorCode() !== undefined && (settings.dryRun || !interruption.signal.aborted)) {
    exitStatus = ExitCode.ioError;
  } else if (outputClosedAfter !== undefined) {
    exitStatus = ExitCode.outputClosed;
  } else if (interruption.signal.aborted) {
    const undelivered = stats.delivery?.undelivered ?? 0;
    // Before the inputs were read to their end, the count covers only the events read so far, and a resume reads the rest too.
    const soFar = stats.inputsReadToEnd ? "" : "of the events read so far, ";
    const entries = `${soFar}${formatCount(undelivered)} ${undelivered === 1 ? "entry was" : "entries were"}`;
    // Ctrl-C during delivery often comes after the last event was read, and then no input is left unread.
    const interrupted = stats.inputsReadToEnd ? "interrupted after reading every event" : "interrupted: stopped reading";
    let message: string;
    let resume: string | undefined;
    if (settings.dryRun) {
      message = `${interrupted}; a dry run keeps no state file, so there is nothing to resume: run it again to see every request`;
    } else if (notResumable === undefined && !interruption.hasCheckpoint()) {
      message = `${interrupted} before delivery started, so ${NO_CHECKPOINT_TEXT}:\n  ${mask(withoutResumeCommand())}`;
    } else if (notResumable === undefined) {
      resume = mask(resumeCommand());
      const rest = stats.inputsReadToEnd ? "" : ", which also reads the events after them";
      message = `${interrupted}; ${entries} left for a resumed run${rest}\n  resume with:\n  ${resume}`;
    } else {
      message = `${interrupted}; ${entries} not delivered\n  ${notResumable}`;
    }
    writeStderr(`${wrapStderrMessage(message)}\n`);
    exitStatus = interruptedExitStatus(interruption.receivedSignal());
    reportedInterruption = { signal: interruption.receivedSignal() ?? null, resumeCommand: resume ?? null };
  }
  return writeReports(stats, settings, { source: config.source, excludeEmails, interruption: reportedInterruption }, exitStatus);
}

const NOT_SENT_FILE: OutputFileKind = { option: "--not-sent", noun: "the not-sent file", exampleName: "not-sent.ndjson", writtenInPlace: true };

/** Error codes of a write that the disk refused: full, over the file-size limit or over a quota. */
const DISK_FULL_CODES: ReadonlySet<string> = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);

/** Exit statuses that a failed write of the not-sent file replaces with `ExitCode.ioError`, as a failed write to stdout does. */
const OUTPUT_FAILURE_REPLACES: ReadonlySet<number> = new Set([ExitCode.done, ExitCode.incomplete]);

/** Closes the not-sent file and returns the counts and error that the summary and the report show. */
function closeNotSentFile(file: NotSentFile | undefined): NotSentFileResult | undefined {
  if (file === undefined) {
    return undefined;
  }
  file.close({ createEmpty: true });
  const result: NotSentFileResult = { path: file.path, lines: file.lines, linesLost: file.linesLost };
  if (file.failure !== undefined) {
    result.error = file.failure.message;
  }
  return result;
}

/** Returns what to do before running the printed resume command after a run stopped for `reason`. */
function resumeHint(reason: RunFailureReason): string {
  if (reason === "unavailable") {
    return "once Koala responds again, resume with:";
  }
  if (ENDPOINT_FAILURES.has(reason)) {
    return "after fixing it, resume with this command, correcting its --endpoint first if that was the mistake:";
  }
  return "after fixing it, resume with:";
}

/** Fatal reasons that a wrong `--endpoint` can cause, as well as or instead of a wrong key. */
const ENDPOINT_FAILURES: ReadonlySet<RunFailureReason> = new Set<RunFailureReason>([
  "not-found",
  "method-not-allowed",
  "redirected",
  "not-implemented",
  "http-version-not-supported",
  "proxy-authentication-required",
  "request-form-rejected",
  "host-not-found",
  "unreachable",
  "web-page",
]);

/** Returns warnings about options that are valid but probably not what the user meant. */
function optionWarnings(settings: SendSettings): string[] {
  const warnings: string[] = [];
  if (!settings.stitch && settings.identitiesFile !== undefined) {
    warnings.push(ignoredIdentitiesWarning(settings.identitiesFile));
  }
  warnings.push(...csvTableWarnings(settings.csv));
  return warnings;
}

/**
 * Returns the `--verbose` sink: each call prints one line with `logLine` (above the progress line),
 * with the public key masked and emails hidden. The delivery stage calls it for every retry and every dead-lettered entry.
 */
export function createVerboseLog(settings: SendSettings, logLine: (line: string) => void): ((message: string) => void) | undefined {
  if (!settings.verbose) {
    return undefined;
  }
  // A line names its input, whose name may contain control characters. Emails are hidden in every
  // line, as the formatters hide those they know of, because verbose output ends up in CI logs.
  return (message) => logLine(escapeControlCharacters(hideEmails(maskSecret(message, settings.publicKey))));
}

/**
 * Turns the refusal to replace the checkpoint of an unfinished run into a usage error that gives
 * the command for each choice: continue that run, or start over.
 */
function unfinishedRunUsageError(error: UnfinishedRunError): UsageError {
  const message = error.message.replace(error.statePath, displayPath(error.statePath, process.cwd()));
  const hint = [
    "to continue that run, sending only what it did not deliver:",
    `    ${rerunCommand("--resume")}`,
    "  to start over, sending every event again and replacing the checkpoint:",
    `    ${rerunCommand("--restart")}`,
  ].join("\n");
  return new UsageError(message, hint);
}

/**
 * Turns a state file that cannot be read as one into a usage error that gives the command for each
 * choice. Without --resume the run would replace it, and it may be the only record of a run that
 * did not finish, so the run stops as it does for such a run.
 */
function invalidStateFileUsageError(error: InvalidStateFileError, settings: SendSettings): UsageError {
  const statePath = displayPath(error.statePath, process.cwd());
  const resume = settings.delivery.resume;
  const consequence = resume
    ? `The run it records cannot be resumed from it. Nothing was ${settings.dryRun ? "printed" : "sent"}.`
    : "It may be the only record of a run that did not finish, and this run would replace it. Nothing was sent.";
  const message = `the checkpoint ${statePath} ${error.problem}. ${consequence}`;
  const restart = settings.dryRun
    ? ["  to print the requests of every event instead, without --resume:", `    ${withoutResumeCommand()}`]
    : ["  to start over, sending every event again and replacing the file:", `    ${rerunCommand("--restart")}`];
  const hint = [
    resume ? "restore the file from a backup and run the same command to resume that run" : "restore the file from a backup and add --resume to resume that run",
    ...restart,
    ...(settings.dryRun ? [] : ["  to keep the file as it is, give this run a checkpoint of its own with --state <path>"]),
  ].join("\n");
  return new UsageError(message, hint);
}

/**
 * Turns a resume that found no checkpoint of its inputs, beside checkpoints of unfinished runs, into
 * a usage error. It lists those runs and gives the command for each choice: resume the run saved
 * last from its checkpoint, or send everything without --resume.
 */
function checkpointNotFoundUsageError(error: CheckpointNotFoundError, dryRun: boolean): UsageError {
  const cwd = process.cwd();
  const count = error.unfinished.length;
  const folder = displayPath(dirname(error.statePath), cwd);
  const found = count === 1 ? "a checkpoint of a run" : `${formatCount(count)} checkpoints of runs`;
  const message =
    `--resume found no checkpoint of these inputs (${displayPath(error.statePath, cwd)}), but ${folder} has ${found} that did not finish, ` +
    `perhaps of the same files given another way (a folder in place of its files, or other files added). Nothing was ${dryRun ? "printed" : "sent"}.`;
  const listed = error.unfinished.slice(0, MAX_LISTED_CHECKPOINTS).map((checkpoint) => `  ${describeUnfinishedCheckpoint(checkpoint, cwd)}`);
  if (count > MAX_LISTED_CHECKPOINTS) {
    listed.push(`  and ${formatCount(count - MAX_LISTED_CHECKPOINTS)} more`);
  }
  const [latest] = error.unfinished;
  const hint = [
    ...listed,
    count === 1 ? "  to resume that run with these inputs:" : "  to resume the run saved last with these inputs:",
    `    ${resumeFromStateCommand(displayPath(latest?.path ?? "", cwd))}`,
    dryRun ? "  to print the requests of every event of these inputs instead, without --resume:" : "  to send every event of these inputs instead, without --resume:",
    `    ${withoutResumeCommand()}`,
  ].join("\n");
  return new UsageError(message, hint.trimStart());
}

/** Checkpoints listed by `checkpointNotFoundUsageError`; the rest are counted. */
const MAX_LISTED_CHECKPOINTS = 5;

function describeUnfinishedCheckpoint(checkpoint: UnfinishedCheckpoint, cwd: string): string {
  const saved = checkpoint.savedAt === undefined ? "" : `, last saved ${checkpoint.savedAt}`;
  const [first] = checkpoint.inputs;
  if (first === undefined) {
    return `${displayPath(checkpoint.path, cwd)}${saved}`;
  }
  const others = checkpoint.inputs.length - 1;
  const more = others === 0 ? "" : ` and ${formatCount(others)} more ${others === 1 ? "input" : "inputs"}`;
  return `${displayPath(checkpoint.path, cwd)}${saved}, which read ${escapeControlCharacters(displayPath(first, cwd))}${more}`;
}

/**
 * Returns the dead-letter files that the summary's resend command names, by absolute path: this
 * run's, when it wrote dead letters, and those of the earlier runs of a resumed checkpoint that
 * still exist and contain entries that no resend delivered.
 */
function deadLetterFilesToResend(stats: RunStats): string[] {
  const delivery = stats.delivery;
  if (delivery === undefined) {
    return [];
  }
  const files = new Set<string>();
  if (delivery.deadLetteredTotal > 0 && delivery.deadLetterPath !== undefined) {
    files.add(resolve(delivery.deadLetterPath));
  }
  const earlier = delivery.earlierDeadLetters;
  if (earlier?.files !== undefined) {
    for (const file of earlier.files) {
      if (file.undelivered > 0 && file.status !== "missing") {
        files.add(file.path);
      }
    }
  } else if (earlier?.path !== undefined && (earlier.entries ?? 0) > 0) {
    files.add(earlier.path);
  }
  return [...files];
}

/**
 * Returns status 1 when entries were not delivered: by this run, or, in a real resume, dead-lettered
 * by the earlier runs of its checkpoint and not delivered by a resend since.
 */
function exitStatusOf(stats: RunStats, dryRun: boolean): number {
  const earlier = stats.delivery?.earlierDeadLetters;
  const earlierDeadLetters = dryRun || earlier === undefined ? 0 : (countUndeliveredEarlier(earlier) ?? 0);
  const incomplete = stats.invalidCount > 0 || stats.failedCount > 0 || stats.unreadableCount > 0 || earlierDeadLetters > 0;
  return incomplete ? ExitCode.incomplete : ExitCode.done;
}

/**
 * Writes the JSON report to `--report` and to stdout for `--json`. Returns the exit status, which a
 * write that the disk failed (ENOSPC, EFBIG) turns into 74, as for the not-sent file, and any other
 * failed write raises to 1.
 */
async function writeReports(
  stats: RunStats,
  settings: SendSettings,
  config: { source: string; excludeEmails: readonly string[]; interruption: ReportedInterruption | undefined },
  exitStatus: number,
): Promise<number> {
  if (settings.reportPath === undefined && !settings.json) {
    return exitStatus;
  }
  const built = buildRunReport(stats, {
    version: packageVersion(),
    workingDirectory: process.cwd(),
    exitStatus,
    finishedAt: Date.now(),
    interruption: config.interruption,
    options: {
      inputs: settings.inputs,
      dryRun: settings.dryRun,
      endpoint: settings.endpoint,
      publicKey: settings.publicKey,
      concurrency: settings.delivery.concurrency,
      adaptiveConcurrency: settings.delivery.adaptiveConcurrency,
      maxRps: settings.delivery.maxRps,
      maxBatchSize: settings.delivery.maxBatchSize,
      timeoutMs: settings.delivery.timeoutMs,
      maxAttempts: settings.delivery.maxAttempts,
      maxOutageMs: settings.delivery.maxOutageMs,
      resume: settings.delivery.resume,
      browserEvents: settings.browserEventsText,
      format: settings.format,
      config: config.source,
      stitch: settings.stitch,
      filters: settings.filters.map((filter) => filter.text),
      excludeEmails: config.excludeEmails,
    },
  });
  const report = hideEmailsInReport(built);
  const text = `${stringifyWithSecretMasked(report, settings.publicKey)}\n`;
  if (settings.json) {
    process.stdout.write(text);
  }
  if (settings.reportPath === undefined) {
    return exitStatus;
  }
  try {
    await writeReportFile(settings.reportPath, text);
    return exitStatus;
  } catch (error) {
    writeError(`the report could not be written to ${settings.reportPath} (${(error as Error).message}); the run itself finished as summarised above`);
    if (DISK_FULL_CODES.has((error as NodeJS.ErrnoException).code ?? "") && OUTPUT_FAILURE_REPLACES.has(exitStatus)) {
      return ExitCode.ioError;
    }
    return Math.max(exitStatus, ExitCode.incomplete);
  }
}

/** Names where the email patterns in effect came from: the config file, `--exclude-emails`, or both. */
function describeEmailPatternSources(config: { source: string; excludeEmails: readonly string[] }, optionPatterns: readonly string[]): string[] {
  const sources: string[] = [];
  if (config.excludeEmails.length > 0) {
    sources.push(`excludeEmails in ${displayPath(config.source, process.cwd())}`);
  }
  if (optionPatterns.length > 0) {
    sources.push("--exclude-emails");
  }
  return sources;
}
