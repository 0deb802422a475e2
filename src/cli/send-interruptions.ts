import { statSync } from "node:fs";
import { nameReadOnceInputs } from "../inputs/read-once.js";
import { formatCount } from "../reporting/count-format.js";
import { displayPath } from "../reporting/input-names.js";
import { maskSecret } from "../reporting/mask.js";
import type { ProgressReporter } from "../reporting/progress.js";
import type { ProgressSnapshot } from "../reporting/progress-text.js";
import { ExitCode } from "./errors.js";
import { resumeCommand, withoutResumeCommand } from "./rerun-commands.js";
import type { SendSettings } from "./send-options.js";
import { wrapStderrMessage } from "./stderr-message.js";

// How `send` stops on Ctrl-C, SIGTERM and SIGHUP, and what it prints then: the first signal stops
// reading and lets the requests in flight finish, and a second one exits at once.

/**
 * Explains why a stopped run cannot be resumed when it read stdin or a pipe, or returns undefined
 * when it read regular files only. The checkpoint counts the lines of each input, and a pipe read
 * again gives other bytes, or none.
 */
export function notResumableText(settings: SendSettings): string | undefined {
  if (settings.readOnceInputs.length === 0) {
    return undefined;
  }
  return (
    `${nameReadOnceInputs(settings.readOnceInputs)} cannot be read again, so this run cannot be resumed with --resume. ` +
    "Run it again with the same events to send everything (Koala ignores entries whose message_id it already has), " +
    "or save the events to a regular file and give that file, so that a stopped run can be resumed."
  );
}

/** Tells a stopped run to run again in full: a resume would warn that it found no checkpoint and send everything. */
export const NO_CHECKPOINT_TEXT = "nothing was sent and there is no checkpoint to resume from\n  send every event again with";

/** The state file of a run as the run found it: its path, and its inode and change time, or undefined when it was missing. */
interface StateFileAtStart {
  path: string;
  stamp: string | undefined;
}

/** Identifies one version of a file. Each save of the checkpoint renames a new file over it, which changes both values. */
function fileStamp(path: string): string | undefined {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.ino}:${stats.ctimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Checks whether a resume of this run would find a checkpoint of it. A run stopped before its first
 * delivery, as in the identity pass, has saved none. The state file of an earlier run at the same
 * path counts only when this run resumed it. A run that does not resume replaces that file at its
 * first save, and before then a resume would skip what the earlier run finished.
 */
function hasCheckpoint(stateFile: StateFileAtStart | undefined, resume: boolean): boolean {
  if (stateFile === undefined) {
    return true;
  }
  const stamp = fileStamp(stateFile.path);
  if (stamp === undefined) {
    return false;
  }
  return resume || stamp !== stateFile.stamp;
}

/** The interruption state of a send, as `handleInterruptions` returns it. */
export interface Interruption {
  signal: AbortSignal;
  stop: () => void;
  dispose: () => void;
  /** Takes the state file of the run before its first save, which the messages of Ctrl-C check for a checkpoint. */
  useStatePath: (statePath: string) => void;
  /** Checks whether a resume of this run would find a checkpoint of it (see `hasCheckpoint`). */
  hasCheckpoint: () => boolean;
  /** Returns the signal that interrupted the run, or undefined when none did. */
  receivedSignal: () => InterruptSignal | undefined;
}

/**
 * The signals that stop a send as Ctrl-C does. SIGHUP comes when the terminal closes or an ssh
 * connection drops. Without a handler it would end the run at once, before the checkpoint is saved
 * and the locks are removed.
 */
const INTERRUPT_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/**
 * Turns the first Ctrl-C, SIGTERM or SIGHUP into an abort signal, so that the run stops reading and
 * finishes what is in flight. A second one exits at once.
 */
export function handleInterruptions(
  progress: ProgressReporter,
  logLine: (line: string) => void,
  settings: SendSettings,
  latestSnapshot: () => ProgressSnapshot | undefined,
): Interruption {
  const controller = new AbortController();
  let stateFile: StateFileAtStart | undefined;
  let received: InterruptSignal | undefined;
  const onSignal = (signal: InterruptSignal): void => {
    if (controller.signal.aborted) {
      progress.stop();
      // The delivery run saves the checkpoint in its own exit listener, which was added before
      // this one, so the message is written once the state file is on disk or known to be missing.
      // It goes to stderr directly, not through writeStderr, because the process exits at once and
      // could not wait for stdout's queued bytes.
      process.once("exit", () => {
        const message = secondInterruptMessage(settings, hasCheckpoint(stateFile, settings.delivery.resume), latestSnapshot());
        process.stderr.write(`${wrapStderrMessage(message)}\n`);
      });
      process.exit(interruptedExitStatus(signal));
    }
    // A dry run has no requests in flight, so it stops reading and prints its summary.
    const stopping = settings.dryRun ? "stopping the dry run" : "finishing the requests in flight";
    received = signal;
    // After SIGHUP the terminal is usually gone, and writes to it fail, which stderr's handler ignores.
    logLine(`\n${wrapStderrMessage(firstInterruptMessage(signal, stopping))}`);
    controller.abort();
  };
  for (const signal of INTERRUPT_SIGNALS) {
    process.on(signal, onSignal);
  }
  return {
    signal: controller.signal,
    stop: () => controller.abort(),
    dispose: () => {
      for (const signal of INTERRUPT_SIGNALS) {
        process.off(signal, onSignal);
      }
    },
    receivedSignal: () => received,
    useStatePath: (path) => {
      stateFile = { path, stamp: fileStamp(path) };
    },
    hasCheckpoint: () => hasCheckpoint(stateFile, settings.delivery.resume),
  };
}

/** Builds the line printed when the first interrupting signal arrives, naming how to exit at once. */
function firstInterruptMessage(signal: InterruptSignal, stopping: string): string {
  switch (signal) {
    case "SIGINT":
      return `interrupting: ${stopping} (Ctrl-C again to exit at once)`;
    case "SIGTERM":
      return `interrupting on SIGTERM: ${stopping} (a second SIGTERM exits at once)`;
    case "SIGHUP":
      return `interrupting on SIGHUP (terminal closed or connection lost): ${stopping} (a second signal exits at once)`;
  }
}

/** Returns the exit status of a run that `signal` interrupted: 129 for SIGHUP, as a shell shows, and 130 otherwise. */
export function interruptedExitStatus(signal: InterruptSignal | undefined): number {
  return signal === "SIGHUP" ? ExitCode.hangup : ExitCode.interrupted;
}

/**
 * Builds what a second Ctrl-C prints as the process exits: the counts of the last status update,
 * that no summary or --report follows, and how to run the rest, when it can be run.
 */
function secondInterruptMessage(settings: SendSettings, checkpointSaved: boolean, snapshot: ProgressSnapshot | undefined): string {
  const lines = ["interrupted again: exiting now"];
  if (snapshot !== undefined) {
    lines.push(`  at the last status update: ${describeSnapshotCounts(snapshot, settings.dryRun)}`);
  }
  // The report is built from the run's final counts, which a process that exits at once never has.
  // A report of an earlier run at the same path stays as it was.
  const report = settings.reportPath === undefined ? "" : `, and ${displayPath(settings.reportPath, process.cwd())} was not written`;
  lines.push(`  no summary was printed${report}`);
  const message = lines.join("\n");
  const notResumable = notResumableText(settings);
  if (settings.dryRun) {
    return message;
  }
  if (notResumable !== undefined) {
    return `${message}\n  ${notResumable}`;
  }
  if (!checkpointSaved) {
    return `${message}\n  ${NO_CHECKPOINT_TEXT}:\n  ${maskSecret(withoutResumeCommand(), settings.publicKey)}`;
  }
  // The delivery run warns if its save on exit failed, so the message does not claim the save.
  return `${message}\n  the requests in flight are not waited for, so a resume sends them again; resume with:\n  ${maskSecret(resumeCommand(), settings.publicKey)}`;
}

/** Lists the counts of a status update, as the status line shows them, for the message of a second signal. */
function describeSnapshotCounts(snapshot: ProgressSnapshot, dryRun: boolean): string {
  const problems = `${formatCount(snapshot.failed)} ${snapshot.failed === 1 ? "problem" : "problems"}`;
  return `${formatCount(snapshot.eventsRead)} events read, ${formatCount(snapshot.entriesSent)} ${dryRun ? "printed" : "sent"}, ${formatCount(snapshot.skipped)} skipped, ${problems}`;
}
