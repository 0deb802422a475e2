import { countUndeliveredEarlier } from "../delivery/index.js";
import type { SkipReason } from "../pipeline/outcomes.js";
import { formatCount } from "./count-format.js";
import type { RunStats } from "./run-stats.js";

/**
 * Reasons of the events that a resume skips because earlier runs finished them. A resume that read
 * every input to its end splits them into `already-delivered` and `skipped-earlier`, and one that
 * did not counts them all as `done-earlier` (see `RunStats.splitDoneEarlier`). So the headlines
 * count the three together, and read the same whichever way the run ended.
 */
export const DONE_EARLIER_REASONS: ReadonlySet<SkipReason> = new Set(["already-delivered", "skipped-earlier", "done-earlier"]);

/** Counts the events that earlier runs of the resumed checkpoint finished, under any of DONE_EARLIER_REASONS. */
export function countDoneEarlier(stats: RunStats): number {
  let count = 0;
  for (const reason of DONE_EARLIER_REASONS) {
    count += stats.skippedByReason.get(reason) ?? 0;
  }
  return count;
}

/**
 * Returns the skip reason under which the events of earlier dead letters are counted: `done-earlier`
 * when the resume could not split the events done earlier, else `already-delivered`.
 */
export function earlierDeadLetterReason(stats: RunStats): SkipReason {
  return stats.skippedByReason.has("done-earlier") ? "done-earlier" : "already-delivered";
}

/**
 * Returns the headline of a resume that found every event finished by the earlier runs of its
 * checkpoint, or undefined for any other run. Such a run has nothing left to read, which is the
 * outcome a finished backfill should report, not a shortfall. Entries that those runs dead-lettered
 * and no resend delivered are still left, and the headline counts them, except in a dry run.
 */
export function finishedEarlierText(stats: RunStats, dryRun: boolean): string | undefined {
  if (stats.entriesSent > 0 || stats.failedCount > 0 || stats.invalidCount > 0 || stats.unreadableCount > 0) {
    return undefined;
  }
  const doneEarlier = countDoneEarlier(stats);
  if (doneEarlier === 0 || doneEarlier !== stats.skippedCount || doneEarlier !== stats.eventsRead) {
    return undefined;
  }
  const finished = `Every one of the ${formatCount(stats.eventsRead)} events read was finished by earlier runs of this checkpoint${describeSplit(stats, doneEarlier)}`;
  const undelivered = dryRun ? 0 : countUndeliveredEarlierDeadLetters(stats);
  if (undelivered === 0) {
    return `${finished}: nothing was left to send.`;
  }
  const entries = undelivered === 1 ? "1 entry that they dead-lettered is" : `${formatCount(undelivered)} entries that they dead-lettered are`;
  return `${finished}, but ${entries} still not delivered: see earlier dead letters below.`;
}

/**
 * Returns the headline of a resume that sent entries and skipped at least half of the events read
 * as finished by earlier runs, or undefined for any other run.
 */
export function resumedRunText(stats: RunStats): string | undefined {
  const doneEarlier = countDoneEarlier(stats);
  if (stats.entriesSent === 0 || doneEarlier === 0 || doneEarlier * 2 < stats.eventsRead) {
    return undefined;
  }
  const verb = doneEarlier === 1 ? "was" : "were";
  const pronoun = doneEarlier === 1 ? "it" : "them";
  return `${formatCount(doneEarlier)} of ${formatCount(stats.eventsRead)} events ${verb} finished by earlier runs of this checkpoint${describeSplit(stats, doneEarlier)}, so --resume skipped ${pronoun}.`;
}

/** Counts the entries that earlier runs dead-lettered and no resend has delivered since, as the exit status counts them. */
function countUndeliveredEarlierDeadLetters(stats: RunStats): number {
  const earlier = stats.delivery?.earlierDeadLetters;
  return earlier === undefined ? 0 : (countUndeliveredEarlier(earlier) ?? 0);
}

/** Describes, in brackets, how many of the events done earlier were delivered and how many skipped, when the run could tell them apart. */
function describeSplit(stats: RunStats, doneEarlier: number): string {
  const delivered = stats.skippedByReason.get("already-delivered") ?? 0;
  const skipped = stats.skippedByReason.get("skipped-earlier") ?? 0;
  if (doneEarlier !== delivered + skipped) {
    return "";
  }
  const parts = [`${formatCount(delivered)} ${delivered === 1 ? "was" : "were"} delivered or dead-lettered`, `${formatCount(skipped)} skipped or found invalid, for the reasons in their own summaries`];
  return ` (${parts.filter((text) => !text.startsWith("0 ")).join(", ")})`;
}
