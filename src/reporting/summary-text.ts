import { existsSync } from "node:fs";
import type { DeliveryResult, EarlierDeadLetterFile } from "../delivery/index.js";
import { formatCoverage } from "../identity/index.js";
import { skipReasonText, type SkipReason } from "../pipeline/outcomes.js";
import { describeDuplicateWindow } from "./duplicate-window.js";
import { formatCount } from "./count-format.js";
import { describeInputsRead, displayPath } from "./input-names.js";
import { DEFAULT_TEXT_WIDTH } from "./output-width.js";
import { OTHER_REASONS, OTHER_RESPONSES, OTHER_TYPES, type RunStats } from "./run-stats.js";
import { escapeControlCharacters } from "./style.js";
import { describeMissingFilterFields } from "./filter-fields.js";
import { wrapText } from "./wrap-text.js";
import { tableFromFileName, tableHintedByFileName } from "../inputs/csv/table.js";
import { hideEmails } from "./email-mask.js";
import { countDoneEarlier, earlierDeadLetterReason, finishedEarlierText, resumedRunText } from "./resume-headline.js";

/** Reasons listed under invalid and failed, and event types named, before the rest are counted together. */
const MAX_LISTED_REASONS = 10;

/** Column where the values of the summary's rows start: two spaces, a label of 22 columns and a space. */
const VALUE_COLUMN = 25;
/**
 * Columns that a value needs beside the label column. A narrower summary puts each value after its
 * label (`files read: 4`), because a value squeezed into fewer columns breaks at almost every word.
 */
const MIN_VALUE_WIDTH = 35;

export interface SummaryContext {
  dryRun: boolean;
  browserEventsPolicy: string;
  /** The inputs as given on the command line, `-` for stdin. */
  inputs: readonly string[];
  /** The directory the run was started in: paths inside it are shown relative to it, as the inputs are. */
  workingDirectory: string;
  /**
   * Mappings of the config, how many of them are enabled, because a disabled one matches no event,
   * and whether they came from a config file, whose message_id mappings may repeat across events.
   * `enabledNames` lists the enabled ones, so that one whose trigger matched nothing shows a 0.
   */
  mappings?: {
    total: number;
    enabled: number;
    fromConfigFile?: boolean;
    enabledNames?: readonly string[];
    /** Mappings, by name, whose sent_at reads the event's timestamp as the presets do: events they find without one lack it. */
    sentAtFromTimestamp?: readonly string[];
  };
  /** Fields that --filter, --since and --until read, in `listFilterFields` order, which `RunStats.filterFieldsSeen` indexes. */
  filterFields?: readonly { label: string; name: string }[];
  /** False when the run read stdin or a pipe, which a resumed run cannot read again; true when absent. */
  resumable?: boolean;
  /** Requests a dry run wrote to stdout before its reader closed the pipe, which stopped the run; absent otherwise. */
  outputClosedAfter?: number;
  /** Whether a failed write left part of the request after those `outputClosedAfter` counts at the end of stdout's file. */
  outputEndsInsideRequest?: boolean;
  /**
   * The error code, such as ENOSPC, when stdout did not close but a write to it failed, which
   * stopped the dry run as a closed pipe does; absent otherwise.
   */
  outputError?: string;
  /** Columns that the summary is wrapped to (default: `DEFAULT_TEXT_WIDTH`, 80). */
  width?: number;
  /** The command that starts koala-replay, for the commands that the summary names (default: `koala-replay`). */
  command?: string;
  /** Sources of the email patterns in effect, such as `excludeEmails in koala-replay.config.json` and `--exclude-emails`. */
  emailPatternSources?: readonly string[];
  /** The `--identities` file of a run that stitches identities, as given; absent without one. */
  identitiesFile?: string;
}

/**
 * Formats the end-of-run summary. Its first lines state what happened and, when little or nothing was
 * sent, the main reason and the option that changes it. Counts have thousands separators (`2,440`).
 * Lines are wrapped to `context.width` columns, with their continuation lines indented under the
 * row's value, and a long path is broken after a `/`. Below `VALUE_COLUMN + MIN_VALUE_WIDTH`
 * columns each value follows its label instead of starting in a column of its own.
 */
export function formatSummary(stats: RunStats, context: SummaryContext): string {
  const width = context.width ?? DEFAULT_TEXT_WIDTH;
  const { row, countRow } = rowLayout(width);
  const lines: string[] = [];
  const verb = context.dryRun ? "would be sent" : "sent";
  const requestCount = stats.requestsSent;
  const requests =
    context.dryRun && context.outputClosedAfter !== undefined
      ? `${formatCount(stats.requestsSent)} ${plural(stats.requestsSent, "request", "requests")}, ${formatCount(context.outputClosedAfter)} of them written whole ${outputStopText(context)}`
      : `${formatCount(requestCount)} ${plural(requestCount, "request", "requests")} ${requestCountLabel(stats, context)}`;
  const headline = `koala-replay: ${formatCount(stats.entriesSent)} ${plural(stats.entriesSent, "entry", "entries")} ${verb} from ${formatCount(stats.eventsRead)} ${plural(stats.eventsRead, "event", "events")} read (${requests})`;
  lines.push(...wrapText(headline, width, "", "  "));
  const hint = explainShortfall(stats, context);
  if (hint !== undefined) {
    lines.push(...wrapText(hint, width, "  ", "  "));
  }
  const csvHint = csvNumbersHint(stats);
  if (csvHint !== undefined) {
    lines.push(...wrapText(csvHint, width, "  ", "  "));
  }
  lines.push("");

  lines.push(row("files read", `${filesReadText(stats, context)}${stats.filesSkipped.length > 0 ? ` (${formatCount(stats.filesSkipped.length)} skipped, see the warnings)` : ""}`));
  lines.push(row("events read", formatCount(stats.eventsRead)));
  lines.push(row("matched", matchedText(stats, context)));
  if (stats.resentDeadLettersByMapping.size > 0) {
    lines.push(row("dead letters resent", `${formatMap(stats.resentDeadLettersByMapping)}  (lines of a dead-letter file, sent again as written without their trigger)`));
    if (resentDeadLettersAllDelivered(stats, context)) {
      // A run appends to a dead-letter file and never empties it, so a later resend would send these again.
      lines.push(row("", "every one was delivered, so the dead-letter files read can be deleted"));
    }
  }
  if (stats.resentDeadLettersExcluded > 0) {
    lines.push(row("dead letters excluded", resentDeadLettersExcludedText(stats.resentDeadLettersExcluded, context)));
  }
  if (stats.invalidDeadLetterLines > 0) {
    const count = stats.invalidDeadLetterLines;
    lines.push(row("dead letters invalid", `${formatCount(count)} ${plural(count, "line", "lines")} of a dead-letter file cannot be resent (see invalid)`));
  }
  if (context.dryRun && context.outputClosedAfter !== undefined) {
    // Requests written before the close was noticed count as written, but some never reached the reader.
    lines.push(row("would be sent", `${formatCount(stats.entriesSent)} (in the ${formatCount(stats.requestsSent)} ${plural(stats.requestsSent, "request", "requests")} formed)`));
    lines.push(row("requests", `${formatCount(stats.requestsSent)} formed, ${formatCount(context.outputClosedAfter)} of them written whole ${outputStopText(context)}`));
  } else {
    lines.push(row(context.dryRun ? "would be sent" : "sent", formatCount(stats.entriesSent)));
    lines.push(row("requests", `${formatCount(requestCount)} ${requestCountLabel(stats, context)}`));
  }
  lines.push(row("skipped", formatCount(stats.skippedCount)));
  // The counts under skipped, invalid and failed are right-aligned in one column, so their reasons line up.
  const countWidth = subCountWidth(stats);
  for (const [reason, count] of sortedByCount(stats.skippedByReason)) {
    lines.push(countRow(`  ${reason}`, count, countWidth, skipReasonText[reason]));
  }
  lines.push(row("invalid", formatCount(stats.invalidCount)));
  const invalid = splitListed(stats.invalidByReason, MAX_LISTED_REASONS, OTHER_REASONS);
  for (const [reason, count] of invalid.listed) {
    const first = stats.invalidFirstAt.get(reason);
    // The value found is event data, and an email in it is hidden as in -v lines.
    const where = first === undefined ? "" : ` (first at ${first.origin.input}:${first.origin.line}${first.found === undefined ? "" : `, found ${hideEmails(first.found)}`})`;
    lines.push(countRow("", count, countWidth, `${escapeControlCharacters(reason)}${where}`));
  }
  if (invalid.otherCount > 0) {
    lines.push(countRow("", invalid.otherCount, countWidth, otherReasonsText(invalid.otherCount, "event", stats.invalidByReason.has(OTHER_REASONS))));
  }
  lines.push(row("unreadable", formatCount(stats.unreadableCount)));
  for (const problem of stats.unreadableExamples) {
    // Line 0 means the whole file, which could not be read at all.
    const where = problem.origin.line === 0 ? problem.origin.input : `${problem.origin.input}:${problem.origin.line}`;
    lines.push(row("", `${where} ${problem.reason}`));
  }
  if (stats.unreadableCount > stats.unreadableExamples.length) {
    lines.push(row("", `… and ${formatCount(stats.unreadableCount - stats.unreadableExamples.length)} more`));
  }
  lines.push(row("failed", formatCount(stats.failedCount)));
  const failed = splitListed(stats.failedByReason, MAX_LISTED_REASONS, OTHER_REASONS);
  for (const [reason, count] of failed.listed) {
    // A failure reason ends with an excerpt of Koala's response, which may quote the entry.
    lines.push(countRow("", count, countWidth, escapeControlCharacters(hideEmails(reason))));
  }
  if (failed.otherCount > 0) {
    const failedFolded = [...stats.failedByReason.keys()].some((reason) => reason.endsWith(OTHER_RESPONSES));
    lines.push(countRow("", failed.otherCount, countWidth, otherReasonsText(failed.otherCount, "entry", failedFolded)));
  }
  lines.push(...deliveryLines(stats, context, row));
  const notSent = notSentFileText(stats, context);
  if (notSent !== undefined) {
    lines.push(row("not-sent file", notSent));
  }
  lines.push(...identityLines(stats, row));
  lines.push(row("time", `${((Date.now() - stats.startedAt) / 1000).toFixed(1)} s`));
  return `${lines.join("\n")}\n`;
}

/**
 * Describes the `--not-sent` file: where it is, how many lines it has, and what is not in it, which
 * is the entries of the dead-letter file and, in a resume, the events that earlier runs finished.
 */
function notSentFileText(stats: RunStats, context: SummaryContext): string | undefined {
  const file = stats.notSentFile;
  if (file === undefined) {
    return undefined;
  }
  const path = escapeControlCharacters(displayPath(file.path, context.workingDirectory));
  const parts = [`${path}: ${formatCount(file.lines)} ${plural(file.lines, "line", "lines")}, one for each event not sent or line not read, with its reasons counted under skipped, invalid or unreadable`];
  if (file.error !== undefined) {
    parts.push(`${formatCount(file.linesLost)} more could not be written (${file.error}), so the file is incomplete`);
  }
  // Unreadable lines that an earlier run reported are in its not-sent file too.
  const earlier = countDoneEarlier(stats) + (stats.skippedByReason.get("unreadable-earlier") ?? 0);
  if (earlier > 0) {
    parts.push(`but not the ${formatCount(earlier)} that earlier runs finished (the not-sent file of each earlier run lists those it did not send)`);
  }
  if (stats.failedCount > 0) {
    parts.push(`the ${formatCount(stats.failedCount)} failed ${plural(stats.failedCount, "entry is", "entries are")} in the dead-letter file instead`);
  }
  return parts.join("; ");
}

/**
 * Formats the events that each mapping matched, largest first, then a 0 for each enabled mapping
 * whose trigger matched no event, so that a trigger naming a wrong field or value shows.
 */
function matchedText(stats: RunStats, context: SummaryContext): string {
  // A 0 tells something about a trigger only when some event went through the triggers. So no 0 is
  // shown before any event is read (a run interrupted in the first pass), nor when every line read
  // is a dead letter, which is resent without a trigger.
  let deadLetterLines = stats.invalidDeadLetterLines;
  for (const count of stats.resentDeadLettersByMapping.values()) {
    deadLetterLines += count;
  }
  const enabledNames = stats.eventsRead > deadLetterLines ? (context.mappings?.enabledNames ?? []) : [];
  const unmatched = enabledNames.filter((name) => !stats.matchedByMapping.has(name));
  const items = [formatMap(stats.matchedByMapping), ...unmatched.map((name) => `${escapeControlCharacters(name)} 0`)];
  return items.filter((item) => item !== "").join(", ") || "0";
}

/**
 * Says how many resent dead letters an email exclusion left out and where the patterns came from.
 * A line gets to a dead-letter file only when the run that wrote it sent it, so a pattern added
 * since then, or one of a config found in the working directory, is the likely cause.
 */
function resentDeadLettersExcludedText(count: number, context: SummaryContext): string {
  const sources = context.emailPatternSources?.join(" and ") ?? "excludeEmails or --exclude-emails";
  const lines = `${formatCount(count)} ${plural(count, "line", "lines")}`;
  return `${lines} not resent: the email matches a pattern of ${sources}, which apply to resent dead letters too (counted under excluded-email). To send ${count === 1 ? "it" : "them"}, remove the pattern and give the dead-letter file again`;
}

/**
 * Returns whether every dead-letter line among the inputs was delivered. That is true of a real run
 * that finished with nothing failed, invalid, unreadable, excluded or left undelivered.
 */
function resentDeadLettersAllDelivered(stats: RunStats, context: SummaryContext): boolean {
  const delivery = stats.delivery;
  return (
    !context.dryRun &&
    delivery !== undefined &&
    !delivery.stopped &&
    delivery.fatal === undefined &&
    delivery.undelivered === 0 &&
    stats.resentDeadLettersExcluded === 0 &&
    stats.failedCount === 0 &&
    stats.invalidCount === 0 &&
    stats.unreadableCount === 0
  );
}

/**
 * Returns the words after the request count: "printed" in a dry run, else "made". A real run counts
 * every HTTP request, failed attempts and retries too, so the label adds "retries included" when
 * there were retries, and the number of accepted requests when some were not accepted.
 */
function requestCountLabel(stats: RunStats, context: SummaryContext): string {
  if (context.dryRun) {
    return "printed";
  }
  const made = (stats.delivery?.retriesTotal ?? 0) > 0 ? "made, retries included" : "made";
  return stats.requestsAccepted === stats.requestsSent ? made : `${made}, ${formatCount(stats.requestsAccepted)} accepted`;
}

/**
 * Names stdin apart from files when the run read it. A run that stopped early may not have reached
 * stdin among several inputs, so with several inputs the count only notes that stdin counts as one.
 */
function filesReadText(stats: RunStats, context: SummaryContext): string {
  if (!context.inputs.includes("-") || stats.filesRead === 0) {
    return formatCount(stats.filesRead);
  }
  if (context.inputs.length === 1) {
    return describeInputsRead(stats.filesRead, true);
  }
  return `${formatCount(stats.filesRead)} (stdin counted as one)`;
}

function deliveryLines(stats: RunStats, context: SummaryContext, row: RowLayout["row"]): string[] {
  const result = stats.delivery;
  if (result === undefined) {
    return [];
  }
  const lines: string[] = [];
  if (result.requestsSent > 0) {
    lines.push(row("entries per request", `${result.entriesPerRequest.mean.toFixed(1)} on average, ${formatCount(result.entriesPerRequest.max)} at most`));
  }
  if (result.retriesTotal > 0) {
    const reasons = Object.entries(result.retries)
      .map(([reason, count]) => `${reason} ${formatCount(count)}`)
      .join(", ");
    lines.push(row("retries", `${formatCount(result.retriesTotal)} (${reasons})`));
  }
  const split = result.requestsSplit ?? 0;
  if (split > 0) {
    lines.push(row("split requests", `${formatCount(split)} (their batches were split in halves, each sent again, to find the entries that Koala rejected or failed on)`));
  }
  if (result.duplicateWindow !== undefined) {
    const text = describeDuplicateWindow(result.duplicateWindow, "entries", `a messageId repeated further apart was ${context.dryRun ? "printed" : "sent"} again`);
    lines.push(row("duplicates", text));
  }
  if (result.deadLetteredTotal > 0 && result.deadLetterPath !== undefined) {
    const path = displayPath(result.deadLetterPath, context.workingDirectory);
    const text =
      result.deadLetterFileHadEarlierLines === true
        ? `${formatCount(result.deadLetteredTotal)} appended to ${path}, which also contains the dead letters of earlier runs; the command below the summary sends all of them again`
        : `${formatCount(result.deadLetteredTotal)} written to ${path}; the command below the summary sends them again`;
    lines.push(row("dead letters", text));
  }
  describeEarlierDeadLetters(result, context, earlierDeadLetterReason(stats)).forEach((text, index) => lines.push(row(index === 0 ? "earlier dead letters" : "", text)));
  if (result.undelivered > 0 && context.dryRun) {
    lines.push(row("not printed", `${formatCount(result.undelivered)} (the run stopped before printing their requests)`));
  } else if (result.undelivered > 0) {
    const next = context.resumable === false ? "stdin and pipes cannot be read again, so only a new run sends them" : "--resume sends them";
    lines.push(row("not yet delivered", `${formatCount(result.undelivered)} (the run stopped; ${next})`));
  }
  if (!context.dryRun && result.statePath !== undefined && existsSync(result.statePath)) {
    lines.push(row("checkpoint", displayPath(result.statePath, context.workingDirectory)));
  }
  if (result.checkpointErrors > 0) {
    const saves = `${formatCount(result.checkpointErrors)} ${plural(result.checkpointErrors, "save", "saves")}`;
    lines.push(row("checkpoint failed", `${saves} of the checkpoint failed (the first error is printed above), so a resume sends again what the last save that worked did not record`));
  }
  const deadLetterFileErrors = result.deadLetterFileErrors ?? 0;
  if (deadLetterFileErrors > 0) {
    lines.push(row("dead-letter file", `${formatCount(deadLetterFileErrors)} ${plural(deadLetterFileErrors, "problem", "problems")} with the dead-letter file, printed above`));
  }
  return lines;
}

/**
 * Describes the dead letters of the earlier runs of a resumed checkpoint, which this run neither
 * sent nor counts among its own, file by file with what resends did with them, or returns no line
 * when there are none. `countedUnder` is the skip reason that their events count under.
 */
function describeEarlierDeadLetters(result: DeliveryResult, context: SummaryContext, countedUnder: SkipReason): string[] {
  const earlier = result.earlierDeadLetters;
  if (earlier === undefined || earlier.entries === 0) {
    return [];
  }
  const file = earlier.path === undefined ? undefined : displayPath(earlier.path, context.workingDirectory);
  if (earlier.entries === undefined) {
    const where = file === undefined ? "their dead-letter file" : file;
    return [`not counted, because an earlier version of koala-replay wrote the checkpoint: earlier runs may have written entries to ${where}, which a resend of that file sends again`];
  }
  const files = (earlier.files ?? (earlier.path === undefined ? [] : [{ path: earlier.path, entries: earlier.entries, undelivered: earlier.entries, status: "not-resent" as const }])).filter(
    (candidate) => candidate.entries > 0,
  );
  const entries = countEntries(earlier.entries);
  if (files.length === 0) {
    return [`${entries} dead-lettered by earlier runs of this checkpoint: not delivered, and not sent again by --resume (their events count under ${countedUnder})`];
  }
  if (files.length === 1) {
    const [only] = files as [EarlierDeadLetterFile];
    return [`${entries} dead-lettered by earlier runs of this checkpoint, to ${displayPath(only.path, context.workingDirectory)}: ${describeDeadLetterFileStatus(only, context, countedUnder)}`];
  }
  const lines = [`${entries} dead-lettered by earlier runs of this checkpoint, to ${formatCount(files.length)} files; their events count under ${countedUnder}:`];
  for (const each of files) {
    lines.push(`${countEntries(each.entries)} to ${displayPath(each.path, context.workingDirectory)}: ${describeDeadLetterFileStatus(each, context, countedUnder)}`);
  }
  return lines;
}

function countEntries(count: number): string {
  return `${formatCount(count)} ${plural(count, "entry", "entries")}`;
}

/** Says what became of the entries of an earlier dead-letter file, and what to do about those not delivered. */
function describeDeadLetterFileStatus(file: EarlierDeadLetterFile, context: SummaryContext, countedUnder: SkipReason): string {
  const resend = file.resendStatePath === undefined ? "a resend" : `the resend whose checkpoint is ${displayPath(file.resendStatePath, context.workingDirectory)}`;
  const undelivered = `${formatCount(file.undelivered)} of them`;
  switch (file.status) {
    case "resent":
      return `delivered since by ${resend}`;
    case "resent-partly":
      return `${resend} read them, but ${undelivered} ${file.undelivered === 1 ? "was" : "were"} not delivered then either (failed again, left out by an email pattern or invalid; its summary says which); the command below the summary sends the file again`;
    case "resend-unfinished":
      return `not all delivered: ${resend} did not finish; resume it, or run the command below the summary`;
    case "resent-before-last-lines":
      return `not all delivered: ${resend} read the file before the last of them were written; the command below the summary sends it again`;
    case "missing":
      return "not delivered, and the file no longer exists: no checkpoint of a resend of it was found, so they cannot be sent again from it";
    case "not-resent":
      return `not delivered, and not sent again by --resume (their events count under ${countedUnder}); the command below the summary sends them again`;
    default: {
      const unknown: never = file.status;
      return unknown;
    }
  }
}

/** Checks whether the run was stopped, by Ctrl-C, before it read any event of the pass that maps and sends them. */
function stoppedBeforeAnyEvent(stats: RunStats): boolean {
  return stats.eventsRead === 0 && stats.delivery?.stopped === true;
}

function identityLines(stats: RunStats, row: RowLayout["row"]): string[] {
  const identity = stats.identity;
  if (identity === undefined) {
    return [];
  }
  if (!identity.stitch) {
    return [row("identity", "stitching off (--no-stitch)")];
  }
  const ids = identity.graph?.idsWithEmail ?? 0;
  const graphText = `${formatCount(ids)} ${plural(ids, "userId or anonymousId", "userIds and anonymousIds")} linked to an email (first pass ${(identity.firstPassMs / 1000).toFixed(1)} s)`;
  const left = stats.noIdentityRecordsLeft;
  const leftLines =
    left === undefined
      ? []
      : [`${formatCount(left)} ${plural(left, "event", "events")} skipped as no-identity by earlier runs not read again, though this graph may give them an email: --restart sends them`];
  if (stoppedBeforeAnyEvent(stats)) {
    // No event was mapped, so every coverage count is 0, and a graph that links no id adds no information either.
    const facts = ids > 0 ? [graphText, ...leftLines] : leftLines;
    return facts.map((text, index) => row(index === 0 ? "identity" : "", text));
  }
  const details = [...formatCoverage(identity.coverage), ...leftLines].map((line) => row("", line));
  return [row("identity", `${graphText}; the lines below count entries, not events`), ...details];
}

/**
 * Returns advice for events that a mapping gave no valid sent_at, or an empty string. A mapping
 * whose sent_at reads the timestamp, as the presets do, and gave no value found events without one
 * (Engage audience CSV downloads have none). Any other sent_at is a mapping of the config whose path
 * finds no date-time in these events, so the advice is about the path.
 */
function sentAtAdvice(stats: RunStats, context: SummaryContext): string {
  const missing = mappingsWithReason(stats, ": sent_at: is required");
  // Without the list, every mapping is taken to read the timestamp, which the presets do.
  const fromTimestamp = new Set(context.mappings?.sentAtFromTimestamp ?? missing);
  if (missing.some((name) => fromTimestamp.has(name))) {
    // Engage CSV downloads are named only when such an event came from a CSV file, because Engage's JSON events may lack one too.
    const csvInputs = stats.invalidExamples.filter((example) => example.reason.startsWith("sent_at: is required") && /\.csv(\.gz)?$/i.test(example.input)).map((example) => example.input);
    const engage = csvInputs.length > 0 ? " (Engage audience CSV downloads have none)" : "";
    const advice = ` Events without a timestamp${engage} need sent_at mapped to another field or to a fixed time, such as {"@literal": "2024-01-01T00:00:00Z"}, in a config (${context.command ?? "koala-replay"} init writes one).`;
    const usersTable = csvInputs.find((input) => (tableFromFileName(input) ?? tableHintedByFileName(input)) === "users");
    return usersTable === undefined ? advice : `${usersTable} looks like a warehouse users table, which has one row per user and no event time: to link userIds to emails, give it with --identities instead of as an input.${advice} Its rows carry receivedAt, the time of the user's latest identify call.`;
  }
  const wrongPath = [...missing, ...mappingsWithReason(stats, ": sent_at: must be an ISO-8601")].filter((name) => !fromTimestamp.has(name));
  if (wrongPath.length === 0) {
    return "";
  }
  const names = [...new Set(wrongPath)].map((name) => `"${name}"`).join(", ");
  return ` The sent_at of ${names} in the config gives no ISO-8601 date-time for these events: check its path against an event (${context.command ?? "koala-replay"} preview shows what each mapping makes of one), or map it to {"@path": "$.timestamp"}.`;
}

/** Returns the names of the mappings that made events invalid for a reason that starts with `reason` (": sent_at: …"). */
function mappingsWithReason(stats: RunStats, reason: string): string[] {
  return [...stats.invalidByReason.keys()].filter((key) => key.includes(reason)).map((key) => key.slice(0, key.indexOf(reason)));
}

/** Says what stopped a dry run's output: `before stdout closed`, or the write error. */
function outputStopText(context: SummaryContext): string {
  return context.outputError === undefined ? "before stdout closed" : `before writing stdout failed (${context.outputError})`;
}

/** Names the main reason why events were not sent, and what to do about it, or undefined when nothing needs saying. */
function explainShortfall(stats: RunStats, context: SummaryContext): string | undefined {
  const fatal = stats.delivery?.fatal;
  if (fatal !== undefined) {
    // send prints the message as an error after the summary, next to the resume command.
    return "Stopped early by the error below.";
  }
  if (context.outputClosedAfter !== undefined) {
    const requests = `${formatCount(context.outputClosedAfter)} ${plural(context.outputClosedAfter, "request", "requests")}`;
    // The close or failure may come after the last event was read, while the last requests are written.
    const counts = stats.inputsReadToEnd ? ". Every event was read, but the requests after those were not written" : ", so reading stopped and the counts below are partial";
    if (context.outputError !== undefined) {
      const cut = context.outputEndsInsideRequest === true ? " (and part of the next one)" : "";
      return `Stopped early: writing the requests to stdout failed (${context.outputError}) after ${requests} ${context.outputClosedAfter === 1 ? "was" : "were"} written whole${cut}${counts}. Write the requests where there is room for all of them.`;
    }
    return `Stopped early: the reader of stdout closed the pipe after ${requests} reached it${counts}. Write the requests to a file to keep all of them.`;
  }
  if (stoppedBeforeAnyEvent(stats)) {
    return "Interrupted before any event was processed: nothing was sent.";
  }
  if (stats.eventsRead === 0) {
    return stats.unreadableCount > 0 ? "No event could be read: see the unreadable lines below." : "The inputs hold no events.";
  }
  const finished = finishedEarlierText(stats, context.dryRun);
  if (finished !== undefined) {
    return finished;
  }
  const [topReason, topCount] = sortedByCount(stats.skippedByReason)[0] ?? [undefined, 0];
  const failures = failuresText(stats, context, topReason === undefined ? undefined : `${formatCount(topCount)} of ${formatCount(stats.eventsRead)} events ${shortfall(topReason, topCount)}`);
  if (failures !== undefined) {
    return failures;
  }
  const resumed = resumedRunText(stats);
  if (resumed !== undefined) {
    return resumed;
  }
  if (topReason === undefined || topCount * 2 < stats.eventsRead) {
    return stats.invalidCount > 0 ? `${formatCount(stats.invalidCount)} invalid: see the reasons below.${sentAtAdvice(stats, context)}` : undefined;
  }
  // Reasons found after mapping count entries, one per mapping that took the event, so they can outnumber the events.
  const share = topCount > stats.eventsRead ? `${formatCount(topCount)} entries from the ${formatCount(stats.eventsRead)} events read` : undefined;
  if ((topReason === "filtered-out" || topReason === "excluded-email") && stats.entriesSent > 0) {
    // Events outside a window the user gave, or of people the user excluded, are what was asked for, not a problem to fix.
    return `${share ?? `${formatCount(topCount)} of ${formatCount(stats.eventsRead)} events`} ${shortfall(topReason, topCount)}, as asked.`;
  }
  let headline: string;
  if (stats.entriesSent === 0) {
    headline = context.dryRun ? "Nothing would be sent" : "Nothing was sent";
  } else {
    headline = context.dryRun ? "Many events would not be sent" : "Many events were not sent";
  }
  const phrase = topReason === "browser-event" ? browserEventsPhrase(context.browserEventsPolicy, topCount) : shortfall(topReason, topCount);
  return `${headline}: ${share ?? `${formatCount(topCount)} of ${formatCount(stats.eventsRead)}`} ${phrase}. ${remedy(topReason, stats, context)}`;
}

/**
 * Returns the headline of a run whose entries mostly failed delivery, naming the main failure and
 * the dead-letter file, or undefined when at least as many entries were delivered as failed.
 * `skipped` describes the main reason events were skipped, which follows as a second sentence.
 */
function failuresText(stats: RunStats, context: SummaryContext, skipped: string | undefined): string | undefined {
  if (context.dryRun || stats.failedCount === 0 || stats.failedCount < stats.entriesSent) {
    return undefined;
  }
  const failed = stats.failedCount;
  const headline = stats.entriesSent === 0 ? "Nothing was delivered" : "Most entries were not delivered";
  const [reason] = sortedByCount(stats.failedByReason)[0] ?? [];
  const cause = reason === undefined ? "" : `, most with ${escapeControlCharacters(hideEmails(reason))}`;
  const delivery = stats.delivery;
  const deadLetters =
    delivery?.deadLetterPath !== undefined && delivery.deadLetteredTotal > 0
      ? ` ${delivery.deadLetteredTotal === 1 ? "It is" : "They are"} in the dead-letter file ${displayPath(delivery.deadLetterPath, context.workingDirectory)}: fix the cause, then send ${delivery.deadLetteredTotal === 1 ? "it" : "them"} again with the command below the summary.`
      : "";
  const also = skipped === undefined ? "" : ` Also, ${skipped}.`;
  return `${headline}: ${formatCount(failed)} ${failed === 1 ? "entry" : "entries"} failed${cause}.${deadLetters}${also}`;
}

/** Names the analytics.js track events that the policy in use left out, and the policy. */
function browserEventsPhrase(policy: string, count: number): string {
  const date = beforeDateOf(policy);
  const events = count === 1 ? "is an analytics.js track event" : "are analytics.js track events";
  return date === undefined
    ? `${events}, which --browser-events ${policy} leaves out`
    : `${events} dated on or after ${date} (or without a valid timestamp), which --browser-events ${policy} leaves out`;
}

/** Returns the date of a `before:<date>` policy, or undefined for the other policies. */
function beforeDateOf(policy: string): string | undefined {
  return policy.startsWith("before:") ? policy.slice("before:".length) : undefined;
}

const shortfallPhrase: Readonly<Record<SkipReason, string>> = {
  "browser-event": "are analytics.js track events, which the --browser-events policy leaves out",
  "no-identity": "have no email or profile_id",
  "no-mapping-matched": "matched no mapping's trigger",
  "filtered-out": "were excluded by --filter, --since or --until",
  "excluded-email": "belong to people whose email matches an email exclusion pattern",
  "duplicate-message-id": "repeat a messageId already sent in this run",
  "already-delivered": "were delivered or dead-lettered by an earlier run",
  "skipped-earlier": "were skipped or found invalid by an earlier run",
  "done-earlier": "were done by an earlier run (delivered, dead-lettered, skipped or found invalid)",
  "unreadable-earlier": "are lines that an earlier run reported as unreadable",
};

/** The same phrases for a count of one event. */
const shortfallPhraseForOne: Readonly<Record<SkipReason, string>> = {
  "browser-event": "is an analytics.js track event, which the --browser-events policy leaves out",
  "no-identity": "has no email or profile_id",
  "no-mapping-matched": "matched no mapping's trigger",
  "filtered-out": "was excluded by --filter, --since or --until",
  "excluded-email": "belongs to a person whose email matches an email exclusion pattern",
  "duplicate-message-id": "repeats a messageId already sent in this run",
  "already-delivered": "was delivered or dead-lettered by an earlier run",
  "skipped-earlier": "was skipped or found invalid by an earlier run",
  "done-earlier": "was done by an earlier run (delivered, dead-lettered, skipped or found invalid)",
  "unreadable-earlier": "is a line that an earlier run reported as unreadable",
};

/** Returns why `count` events were skipped for `reason`, with the verb agreeing with the count. */
function shortfall(reason: SkipReason, count: number): string {
  return (count === 1 ? shortfallPhraseForOne : shortfallPhrase)[reason];
}

/** Explains why stitching found no email for events, naming the `--identities` file when one was given. */
function noIdentityStitchedRemedy(context: SummaryContext): string {
  const identities = context.identitiesFile === undefined ? undefined : JSON.stringify(context.identitiesFile);
  // The first pass skips stdin, so an email given there by an identify call is not used.
  if (context.inputs.includes("-")) {
    const found = identities === undefined ? "never appear with an email in the input files" : `appear with an email neither in ${identities} nor in the input files`;
    const fix = identities === undefined ? "give a file of userId/anonymousId and email with --identities <file>" : `add their ids and emails to ${identities}`;
    return (
      `Their userId and anonymousId ${found}. Identify calls read from standard input are not used, ` +
      `because standard input can be read only once: give the events as a file argument instead of piping them in, or ${fix}.`
    );
  }
  const config = context.mappings?.fromConfigFile === true ? "the config" : `a config (${context.command ?? "koala-replay"} init writes one)`;
  if (identities !== undefined) {
    return `Their userId and anonymousId appear with an email neither in ${identities} nor in the inputs. Check that ${identities} lists these ids with their email, or map an email in ${config}.`;
  }
  return `Their userId and anonymousId never appear with an email in the inputs. Give a file of userId/anonymousId and email with --identities <file> (a warehouse users export works), or map an email in ${config}.`;
}

function remedy(reason: SkipReason, stats: RunStats, context: SummaryContext): string {
  switch (reason) {
    case "browser-event": {
      const date = beforeDateOf(context.browserEventsPolicy);
      return date === undefined
        ? "Koala's browser pixel records these itself, so Segment's destination skips them. To replay history from before the pixel was installed, use --browser-events before:<date the pixel went live>, or --browser-events include for all of them."
        : `Events from after the pixel went live are recorded by the pixel itself. If it went live later than ${date}, give that later date with --browser-events before:<date>. --browser-events include sends all of them.`;
    }
    case "no-identity":
      if (stats.identity?.stitch !== true) {
        // Stdin and pipes need --identities to be stitched, which is likely why stitching is off.
        return context.resumable === false
          ? "Koala needs an email or a profile_id. Stitching fills the email of such events from a file of userId/anonymousId and email: run without --no-stitch and give --identities <file> (a warehouse users export works), since stdin and pipes are read only once."
          : "Koala needs an email or a profile_id. Identity stitching (on unless --no-stitch) fills the email from identify calls and --identities <file>.";
      }
      return noIdentityStitchedRemedy(context);
    case "no-mapping-matched":
      return noMappingRemedy(stats, context);
    case "filtered-out":
      return `${missingFilterFields(stats, context)}Check --filter, --since and --until; an event without a timestamp is outside any --since/--until window.`;
    case "duplicate-message-id":
      if (stats.roundedMessageIds > 0) {
        const verb = stats.roundedMessageIds === 1 ? "has" : "have";
        return `${formatCount(stats.roundedMessageIds)} ${verb} a numeric messageId beyond 2^53 that rounds to the id of another event (see the warning above), so write messageId as a string. Any others repeat an event, as an S3 archive is at-least-once.`;
      }
      return context.mappings?.fromConfigFile === true
        ? "The inputs hold the same events more than once (an S3 archive is at-least-once), or a mapping gives different events the same message_id: check what the config maps message_id from."
        : "The inputs hold the same events more than once (an S3 archive is at-least-once).";
    case "excluded-email":
      return "--exclude-emails and excludeEmails in the config leave out these people, such as your own staff. If more were left out than you expected, check the patterns.";
    case "already-delivered":
    case "skipped-earlier":
    case "done-earlier":
      return "The state file records them as done; without --resume they are read and sent again, which Koala deduplicates by message_id.";
    case "unreadable-earlier":
      return "The earlier run's summary, report and --not-sent file list them; they cannot be read however often the input is replayed.";
    default: {
      const unknownReason: never = reason;
      return String(unknownReason);
    }
  }
}

/**
 * Names the filter fields that no event has, with a trailing space, when the filters excluded every
 * event read. Otherwise returns an empty string, because an event that passed was not checked.
 */
function missingFilterFields(stats: RunStats, context: SummaryContext): string {
  const fields = context.filterFields ?? [];
  if (fields.length === 0 || stats.skippedByReason.get("filtered-out") !== stats.eventsRead) {
    return "";
  }
  const text = describeMissingFilterFields(fields, stats.filterFieldsSeen, stats.filteredOutFields.paths);
  return text === "" ? "" : `${text} `;
}

function noMappingRemedy(stats: RunStats, context: SummaryContext): string {
  const typesSeen = `Event types seen: ${formatMap(stats.unmatchedTypes, { maxListed: MAX_LISTED_REASONS, otherKey: OTHER_TYPES })}.`;
  const mappings = context.mappings;
  if (mappings !== undefined && mappings.total > 0 && mappings.enabled === 0) {
    return `${typesSeen} Every mapping of the config is disabled ("enabled": false), so none was applied: set "enabled": true on the mappings that should send them.`;
  }
  const disabled = mappings === undefined ? 0 : mappings.total - mappings.enabled;
  const disabledNote = disabled > 0 ? ` ${formatCount(disabled)} of ${formatCount(mappings?.total ?? 0)} mappings are disabled ("enabled": false): enable the one meant for them, if any.` : "";
  return `${typesSeen} Add a mapping whose trigger matches them.${disabledNote}`;
}

/**
 * Names a CSV cell kept as text in a field that a trigger compares with a number, which
 * --csv-numbers would have read as a number, or returns undefined when the run found none.
 */
function csvNumbersHint(stats: RunStats): string | undefined {
  const cell = stats.csvNumberKeptAsText;
  if (cell === undefined) {
    return undefined;
  }
  return (
    `CSV cells are text without --csv-numbers: ${cell.field} is ${JSON.stringify(cell.value)} at ${cell.origin.input}:${cell.origin.line}, ` +
    `and ${cell.comparedBy} compares it with a number, which text never matches. Add --csv-numbers to read number-like cells as numbers.`
  );
}

/** Formatters of the summary's rows for one width. */
interface RowLayout {
  /** Formats a row: its label, then its value, wrapped. An empty label continues the row above. */
  row(label: string, value: string): string;
  /**
   * Formats a row whose value is a count and its reason, under skipped, invalid or failed. The count
   * is right-aligned in `countWidth` columns, and the reason's continuation lines go on under the reason.
   */
  countRow(label: string, count: number, countWidth: number, reason: string): string;
}

/**
 * Returns the row formatters for `width` columns. From `VALUE_COLUMN + MIN_VALUE_WIDTH` columns on,
 * values start at `VALUE_COLUMN` and wrap under themselves. On a narrower terminal each value
 * follows its label and a colon, and continuation lines are indented by two more spaces than the row.
 */
function rowLayout(width: number): RowLayout {
  if (width >= VALUE_COLUMN + MIN_VALUE_WIDTH) {
    return {
      row: (label, value) => wrapText(value, width, `  ${label.padEnd(VALUE_COLUMN - 3)} `, " ".repeat(VALUE_COLUMN)).join("\n"),
      countRow: (label, count, countWidth, reason) => {
        const countText = `${formatCount(count).padStart(countWidth)}  `;
        return wrapText(`${countText}${reason}`, width, `  ${label.padEnd(VALUE_COLUMN - 3)} `, " ".repeat(VALUE_COLUMN + countText.length)).join("\n");
      },
    };
  }
  const narrowRow = (label: string, value: string): string => {
    const text = label.trim() === "" ? value : `${label.trim()}: ${value}`;
    // A label with leading spaces is a reason under a row, indented as far as a continuation line.
    const indent = label === "" || label.startsWith(" ") ? "    " : "  ";
    return wrapText(text, width, indent, `${indent}  `).join("\n");
  };
  return {
    row: narrowRow,
    countRow: (label, count, _countWidth, reason) => narrowRow(label, `${formatCount(count)}  ${reason}`),
  };
}

/** Returns the columns of the widest count listed by reason under skipped, invalid and failed. */
function subCountWidth(stats: RunStats): number {
  const counts = [...stats.skippedByReason.values(), ...stats.invalidByReason.values(), ...stats.failedByReason.values()];
  return Math.max(1, ...counts.map((count) => formatCount(count).length));
}

function formatMap(map: Map<string, number>, folded?: { maxListed: number; otherKey: string }): string {
  const { listed, otherCount } = splitListed(map, folded?.maxListed ?? Number.POSITIVE_INFINITY, folded?.otherKey);
  const items = listed.map(([key, count]) => `${escapeControlCharacters(key)} ${formatCount(count)}`);
  if (otherCount > 0) {
    items.push(`and ${formatCount(otherCount)} ${plural(otherCount, "event", "events")} of other types`);
  }
  return items.join(", ");
}

/**
 * Returns the text of the row that counts the events or entries of the reasons not listed. `folded`
 * is true when the tally itself counted some reasons together, so the report does not list them all.
 */
function otherReasonsText(count: number, noun: "event" | "entry", folded: boolean): string {
  const counted = plural(count, noun, noun === "event" ? "events" : "entries");
  return `${counted} for other reasons, which a --report file ${folded ? "counts, listing only the first distinct ones" : "lists"}`;
}

/**
 * Splits counts into the `maxListed` largest, and the sum of the rest and of `otherKey`, which contains
 * the counts of keys past a tally's limit. One more key than `maxListed` is listed rather than folded.
 */
function splitListed(counts: Map<string, number>, maxListed: number, otherKey?: string): { listed: Array<[string, number]>; otherCount: number } {
  const sorted = sortedByCount(counts).filter(([key]) => key !== otherKey);
  const foldedKeys = otherKey !== undefined && counts.has(otherKey);
  const listedCount = sorted.length <= maxListed + 1 && !foldedKeys ? sorted.length : maxListed;
  const otherCount = sum(sorted.slice(listedCount)) + (otherKey === undefined ? 0 : (counts.get(otherKey) ?? 0));
  return { listed: sorted.slice(0, listedCount), otherCount };
}

function sum(counts: ReadonlyArray<[unknown, number]>): number {
  return counts.reduce((total, [, count]) => total + count, 0);
}

function sortedByCount<K>(map: Map<K, number>): Array<[K, number]> {
  return [...map.entries()].sort((left, right) => right[1] - left[1]);
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}
