import { formatCoverage, IdentityCoverage } from "../identity/index.js";
import { EVENT_TYPES, STANDARD_TABLE_TYPES } from "../inputs/csv/index.js";
import { skipReasonText, type SkipReason } from "../pipeline/outcomes.js";
import { formatCount } from "./count-format.js";
import { describeInputsRead, displayPath } from "./input-names.js";
import type { InspectReport } from "./inspect-report.js";
import { escapeControlCharacters, type TextStyle } from "./style.js";

/** Advice for CSV files whose table is unknown, the same as in the warning `send` prints for each such file. */
const UNKNOWN_CSV_TABLE_ADVICE =
  "unknown-csv-table: koala-replay cannot tell the event type of these CSV files, so it reads none of their rows. " +
  `Pass --csv-table <table> with the warehouse table they were exported from (${[...STANDARD_TABLE_TYPES.keys()].join(", ")}, ` +
  `or a per-event table such as order_completed), or --csv-type <type> with the type of every row (${EVENT_TYPES.join(", ")}), ` +
  "or rename each file after its table (identifies.csv).";

/** Writes the `inspect` report for a person: one titled section per question, counts aligned. */
export function formatInspectText(report: InspectReport, style: TextStyle): string {
  const sections = [
    headline(report, style),
    section(style, "Events by type", countRows(Object.entries(report.eventsByType), report.eventsRead)),
    section(style, `Top track event names (${formatCount(report.distinctEventNames)} distinct)`, countRows(report.topEventNames.map((name) => [name.name, name.count]), undefined)),
    section(style, "Libraries (context.library.name)", countRows(Object.entries(report.libraries), report.eventsRead)),
    section(style, "Identity coverage", identityRows(report)),
    section(style, `Mappings (${displayPath(report.mappingSource, report.workingDirectory)}, --browser-events ${report.browserEvents})`, mappingRows(report, style)),
    requestLine(report),
    stitchingLines(report),
  ];
  return `${sections.filter((text) => text !== "").join("\n\n")}\n`;
}

function headline(report: InspectReport, style: TextStyle): string {
  // inspect reads every input, so stdin was read when it was given.
  const stdinRead = report.inputs.includes("-");
  const inputs = describeInputsRead(report.filesRead, stdinRead);
  const preposition = stdinRead && report.filesRead === 1 ? "from" : "in";
  const events = `${formatCount(report.eventsRead)} ${report.eventsRead === 1 ? "event" : "events"}`;
  const lines = [style.bold(`${events} ${preposition} ${inputs}`)];
  const { earliest, latest, eventsWithoutTimestamp } = report.timeRange;
  if (earliest !== null && latest !== null) {
    lines.push(`  from ${earliest} to ${latest}${eventsWithoutTimestamp > 0 ? ` (${formatCount(eventsWithoutTimestamp)} without a valid timestamp)` : ""}`);
  } else if (report.eventsRead > 0) {
    lines.push("  no event has a valid timestamp");
  }
  lines.push(...duplicateLines(report, style));
  if (report.unreadable > 0) {
    lines.push(style.yellow(`  ${formatCount(report.unreadable)} unreadable: ${Object.entries(report.unreadableByReason).map(([reason, count]) => `${reason} ${formatCount(count)}`).join(", ")}`));
    for (const example of report.unreadableExamples) {
      const where = example.line === 0 ? example.input : `${example.input}:${example.line}`;
      lines.push(style.yellow(`    ${where} ${example.reason}`));
    }
    if ((report.unreadableByReason["unknown-csv-table"] ?? 0) > 0) {
      lines.push(`  ${UNKNOWN_CSV_TABLE_ADVICE}`);
    }
  }
  if (report.filesSkipped.length > 0) {
    lines.push(`  ${formatCount(report.filesSkipped.length)} ${report.filesSkipped.length === 1 ? "file" : "files"} skipped:`);
    for (const file of report.filesSkipped) {
      lines.push(`    ${file.path}: ${file.reason}`);
    }
  }
  return lines.join("\n");
}

/** Says how many events repeat an earlier messageId, where the first is, and which inputs hold nothing else. */
function duplicateLines(report: InspectReport, style: TextStyle): string[] {
  const { count, firstAt, inputsOfDuplicatesOnly } = report.duplicateEvents;
  if (count === 0) {
    return [];
  }
  const where = firstAt === null ? "" : ` (the first at ${firstAt.input}:${firstAt.line})`;
  const lines = [
    style.yellow(`  ${formatCount(count)} ${count === 1 ? "event repeats" : "events repeat"} the messageId of an event read before${where}; send skips their entries as duplicates`),
  ];
  for (const input of inputsOfDuplicatesOnly) {
    lines.push(style.yellow(`    every event of ${input} repeats an earlier one: is it a copy of another input, such as an S3 object and its decompressed copy?`));
  }
  return lines;
}

function section(style: TextStyle, title: string, rows: string[]): string {
  if (rows.length === 0) {
    return "";
  }
  return [style.bold(title), ...rows].join("\n");
}

function countRows(entries: ReadonlyArray<readonly [string, number]>, total: number | undefined): string[] {
  // Labels are event types, names and libraries read from the events.
  const labels = entries.map(([label]) => escapeControlCharacters(label));
  const width = Math.max(0, ...labels.map((label) => label.length));
  return entries.map(([, count], index) => `  ${(labels[index] as string).padEnd(width)}  ${formatCount(count).padStart(10)}${share(count, total)}`);
}

function identityRows(report: InspectReport): string[] {
  const identity = report.identity;
  const rows: Array<[string, number]> = [
    ["email (traits, context.traits or properties)", identity.email],
    ["profile_id", identity.profileId],
    ["userId", identity.userId],
    ["anonymousId", identity.anonymousId],
    ["email or profile_id (Koala can attach these)", identity.emailOrProfileId],
    ["none of the four", identity.none],
  ];
  return countRows(rows, report.eventsRead);
}

function mappingRows(report: InspectReport, style: TextStyle): string[] {
  const rows: string[] = [];
  const resent = report.resentDeadLetters;
  const labels = resent.read > 0 ? ["no mapping matched", "resent dead letters"] : ["no mapping matched"];
  const width = Math.max(...report.mappings.map((mapping) => mapping.name.length), ...labels.map((label) => label.length));
  for (const mapping of report.mappings) {
    rows.push(`  ${mapping.name.padEnd(width)}  ${formatCount(mapping.matched).padStart(10)} matched  ${style.green(`${formatCount(mapping.wouldSend).padStart(10)} would be sent`)}  ${style.dim(mapping.trigger)}`);
    rows.push(...reasonRows(mapping, width, style));
  }
  if (resent.read > 0) {
    rows.push(`  ${"resent dead letters".padEnd(width)}  ${formatCount(resent.read).padStart(10)} read     ${style.green(`${formatCount(resent.wouldSend).padStart(10)} would be sent`)}  ${style.dim("lines of a dead-letter file, sent as written without a trigger")}`);
    rows.push(...reasonRows(resent, width, style));
  }
  rows.push(`  ${"no mapping matched".padEnd(width)}  ${formatCount(report.noMappingMatched).padStart(10)}`);
  if (report.filteredOut > 0) {
    rows.push(`  ${"filtered out".padEnd(width)}  ${formatCount(report.filteredOut).padStart(10)}  excluded by --filter, --since or --until`);
  }
  return rows;
}

/** Lists the entries of a mapping, or of the resent dead letters, that would not be sent, by reason. */
function reasonRows(tally: Pick<InspectReport["mappings"][number], "skippedByReason" | "invalidByReason">, width: number, style: TextStyle): string[] {
  const rows: string[] = [];
  for (const [reason, count] of Object.entries(tally.skippedByReason)) {
    rows.push(`  ${"".padEnd(width)}  ${formatCount(count).padStart(10)} skipped: ${skipReasonText[reason as SkipReason] ?? reason}`);
  }
  for (const [reason, count] of Object.entries(tally.invalidByReason)) {
    rows.push(style.yellow(`  ${"".padEnd(width)}  ${formatCount(count).padStart(10)} invalid: ${reason}`));
  }
  return rows;
}

/** Says whether the counts include identity stitching and, when they do, the entries by identity before and after it. */
function stitchingLines(report: InspectReport): string {
  const stitching = report.identityStitching;
  if (!stitching.applied) {
    return stitching.note;
  }
  const coverage = new IdentityCoverage();
  Object.assign(coverage.before, stitching.before);
  Object.assign(coverage.after, stitching.after);
  coverage.conflicts = stitching.conflicts;
  return [stitching.note, ...formatCoverage(coverage).map((line) => `  ${line}`)].join("\n");
}

function requestLine(report: InspectReport): string {
  const estimated = report.requests.estimated;
  return `A send would make about ${formatCount(estimated)} ${estimated === 1 ? "request" : "requests"} (${report.requests.method}).`;
}

function share(count: number, total: number | undefined): string {
  if (total === undefined || total === 0) {
    return "";
  }
  return `  ${((count * 100) / total).toFixed(1).padStart(5)}%`;
}
