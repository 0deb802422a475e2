import { formatCoverage, IdentityCoverage } from "../identity/index.js";
import { EVENT_TYPES, STANDARD_TABLE_TYPES } from "../inputs/csv/index.js";
import { tableHintedByFileName } from "../inputs/csv/table.js";
import { skipReasonText, type SkipReason } from "../pipeline/outcomes.js";
import { askIfCopiedInput } from "./copied-input.js";
import { describeDuplicateWindow } from "./duplicate-window.js";
import { formatCount } from "./count-format.js";
import { describeInputsRead, displayPath } from "./input-names.js";
import { MAX_DISTINCT_VALUES, OTHER_VALUES } from "./archive-inventory.js";
import { OTHER_REASONS } from "./run-stats.js";
import type { EventProfileReport, InspectReport } from "./inspect-report.js";
import { escapeControlCharacters, type TextStyle } from "./style.js";
import { appendNote, displayWidth, padColumns, wrapStyled } from "./wrap-text.js";

/** Unreadable reason of a CSV file whose table, and so the event type of its rows, is unknown. */
const UNKNOWN_CSV_TABLE = "unknown-csv-table";

/** Advice for CSV files whose table is unknown, the same as in the warning `send` prints for each such file. */
const UNKNOWN_CSV_TABLE_ADVICE =
  `Pass --csv-table <table>=<file> for each file with the warehouse table it was exported from (${[...STANDARD_TABLE_TYPES.keys()].join(", ")}, ` +
  `or a per-event table such as order_completed), or --csv-table <table> once for every CSV file, or --csv-type <type> with the type of every row (${EVENT_TYPES.join(", ")}), ` +
  "or rename each file after its table (such as identifies.csv).";

/** Event types and libraries listed by name; the rest are counted in one row. */
const MAX_LISTED_VALUES = 20;

/** Invalid reasons listed under each mapping; the rest are counted in one row. */
const MAX_LISTED_REASONS = 10;

/**
 * Writes the `inspect` report for a person: one titled section per question, counts aligned. Text
 * is wrapped to `width` columns. A table whose rows are wider than that is written as
 * `label: count` lines instead, which wrap. A word wider than the line, such as a long event name,
 * still stays whole.
 */
export function formatInspectText(report: InspectReport, style: TextStyle, width: number): string {
  const text: TextLayout = { style, width };
  // With --filter, --since or --until, the tables describe the events that pass them, which the headline counts apart.
  const profile: EventProfileReport = report.passingFilters ?? report;
  const sections = [
    headline(report, text),
    section(text, "Events by type", countRows(foldedEntries(profile.eventsByType), profile.eventsRead, width)),
    section(text, eventNamesTitle(profile), eventNameRows(profile, width)),
    section(text, "Libraries (context.library.name)", countRows(foldedEntries(profile.libraries), profile.eventsRead, width)),
    section(text, "Identity coverage", identityRows(profile, width)),
    section(text, `Mappings (${displayPath(report.mappingSource, report.workingDirectory)}, --browser-events ${report.browserEvents})`, mappingRows(report, text)),
    section(text, "Excluded emails, whose entries are counted as excluded-email", excludedEmailRows(report)),
    wrapStyled(requestLine(report), width, "", "  ", plain),
    stitchingLines(report, width),
  ];
  return `${sections.filter((text) => text !== "").join("\n\n")}\n`;
}

/**
 * Lists the email patterns in effect with where each was given, one a line so that none is wrapped.
 * Without patterns there are no rows, so the section is left out.
 */
function excludedEmailRows(report: InspectReport): string[] {
  if (report.excludeEmails.length === 0) {
    return [];
  }
  const config = displayPath(report.mappingSource, report.workingDirectory);
  const patternWidth = Math.max(...report.excludeEmails.map(({ pattern }) => pattern.length));
  return report.excludeEmails.map(({ pattern, source }) => `  ${pattern.padEnd(patternWidth)}  (${source === "excludeEmails" ? `excludeEmails in ${config}` : source})`);
}

/** The colours of the text and the columns it is wrapped to. */
interface TextLayout {
  style: TextStyle;
  width: number;
}

const plain = (text: string): string => text;

function headline(report: InspectReport, { style, width }: TextLayout): string {
  // inspect reads every input, so stdin was read when it was given.
  const stdinRead = report.inputs.includes("-");
  const inputs = describeInputsRead(report.filesRead, stdinRead);
  const preposition = stdinRead && report.filesRead === 1 ? "from" : "in";
  const events = `${formatCount(report.eventsRead)} ${report.eventsRead === 1 ? "event" : "events"}`;
  const lines = [wrapStyled(`${events} ${preposition} ${inputs}`, width, "", "  ", style.bold)];
  lines.push(...timeRangeLines(report, "  ", width));
  lines.push(...passingFiltersLines(report, width));
  lines.push(...duplicateLines(report, { style, width }));
  lines.push(...unreadableLines(report, { style, width }));
  if (report.filesSkipped.length > 0) {
    lines.push(`  ${formatCount(report.filesSkipped.length)} ${report.filesSkipped.length === 1 ? "file" : "files"} skipped:`);
    for (const file of report.filesSkipped) {
      lines.push(wrapStyled(`${file.path}: ${file.reason}`, width, "    ", "      ", plain));
    }
  }
  return lines.join("\n");
}

/** Formats the time range of the events of `profile`, or a line that none has a valid timestamp. */
function timeRangeLines(profile: EventProfileReport, indent: string, width: number): string[] {
  const { earliest, latest, eventsWithoutTimestamp } = profile.timeRange;
  if (earliest !== null && latest !== null) {
    const untimed = eventsWithoutTimestamp > 0 ? ` (${formatCount(eventsWithoutTimestamp)} without a valid timestamp)` : "";
    return [wrapStyled(`from ${earliest} to ${latest}${untimed}`, width, indent, `${indent}  `, plain)];
  }
  return profile.eventsRead > 0 ? [`${indent}no event has a valid timestamp`] : [];
}

/**
 * Formats the count of the events that pass `--filter`, `--since` and `--until`, with their time
 * range, and a note that the tables below count only those. Returns no line without these options.
 */
function passingFiltersLines(report: InspectReport, width: number): string[] {
  const passing = report.passingFilters;
  if (passing === null) {
    return [];
  }
  const options = joinWithAnd(passing.options);
  const excluded = report.eventsRead - passing.eventsRead;
  const text = `${formatCount(passing.eventsRead)} of the ${formatCount(report.eventsRead)} ${passing.eventsRead === 1 ? "passes" : "pass"} ${options} (${formatCount(excluded)} excluded), and the tables below count only ${passing.eventsRead === 1 ? "that one" : "those"}`;
  return [wrapStyled(text, width, "  ", "    ", plain), ...timeRangeLines(passing, "    ", width)];
}

/** Joins names as a sentence lists them: `a`, `a and b`, `a, b and c`. */
function joinWithAnd(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] as string}`;
}

/**
 * Formats the count of unreadable lines by reason, with examples. CSV files of an unknown table
 * are listed apart, once, with the options that name their table, because each has the same fix.
 */
function unreadableLines(report: InspectReport, { style, width }: TextLayout): string[] {
  if (report.unreadable === 0) {
    return [];
  }
  const reasons = Object.entries(report.unreadableByReason).map(([reason, count]) => `${reason} ${formatCount(count)}`).join(", ");
  const lines = [wrapStyled(`${formatCount(report.unreadable)} unreadable: ${reasons}`, width, "  ", "    ", style.yellow)];
  for (const example of report.unreadableExamples.filter((candidate) => candidate.reason !== UNKNOWN_CSV_TABLE)) {
    const where = example.line === 0 ? example.input : `${example.input}:${example.line}`;
    // The message describes what is wrong with the line and how to fix it, as send's warning does.
    const text = example.message.startsWith(`${where}: `) ? example.message.slice(where.length + 2) : example.message;
    const message = text === "" ? "" : `: ${escapeControlCharacters(text)}`;
    lines.push(wrapStyled(`${where} ${example.reason}${message}`, width, "    ", "      ", style.yellow));
  }
  return [...lines, ...unknownCsvTableLines(report, { style, width })];
}

/** Lists the CSV files of an unknown table, which `unreadableLines` counts, followed by the options that name their table. */
function unknownCsvTableLines(report: InspectReport, { style, width }: TextLayout): string[] {
  const count = report.unreadableByReason[UNKNOWN_CSV_TABLE] ?? 0;
  if (count === 0) {
    return [];
  }
  const files = count === 1 ? "1 CSV file is" : `${formatCount(count)} CSV files are`;
  const rows = count === 1 ? "its rows and read none of them" : "their rows and read none of them";
  const lines = [wrapStyled(`${files} of a table that koala-replay does not recognise, so it cannot tell the event type of ${rows}:`, width, "  ", "    ", style.yellow)];
  const listed = report.unknownCsvTableFiles;
  for (const file of listed) {
    // As send's warning does, a name that hints at a standard table gets the option that reads it so.
    const hinted = tableHintedByFileName(file);
    const hint = hinted === undefined ? "" : `: its name suggests the ${hinted} table, which --csv-table ${hinted}=${file} gives it`;
    lines.push(wrapStyled(`${file}${hint}`, width, "    ", "      ", style.yellow));
  }
  if (count > listed.length) {
    lines.push(`    … and ${formatCount(count - listed.length)} more`);
  }
  lines.push(wrapStyled(UNKNOWN_CSV_TABLE_ADVICE, width, "    ", "    ", plain));
  return lines;
}

/**
 * Says how many events repeat an earlier messageId, where the first is, which inputs hold nothing
 * else, and how far back repeats were looked for when the inputs had more ids than the check remembers.
 */
function duplicateLines(report: InspectReport, { style, width }: TextLayout): string[] {
  const { count, firstAt, inputsOfDuplicatesOnly, window } = report.duplicateEvents;
  const lines: string[] = [];
  if (count > 0) {
    const where = firstAt === null ? "" : ` (the first at ${firstAt.input}:${firstAt.line})`;
    const repeats = count === 1 ? "event repeats" : "events repeat";
    lines.push(wrapStyled(`${formatCount(count)} ${repeats} the messageId of an event read before${where}; send skips their entries as duplicates`, width, "  ", "    ", style.yellow));
  }
  const rounded = report.duplicateEvents.roundedMessageIds;
  if (rounded > 0) {
    const text =
      rounded === 1
        ? "1 of them has a numeric messageId beyond 2^53, which may be another event's id rounded to the same number (see the warning)"
        : `${formatCount(rounded)} of them have numeric messageIds beyond 2^53, which may be other events' ids rounded to the same number (see the warning)`;
    lines.push(wrapStyled(text, width, "    ", "      ", style.yellow));
  }
  for (const input of inputsOfDuplicatesOnly) {
    lines.push(wrapStyled(askIfCopiedInput(input, "event"), width, "    ", "      ", style.yellow));
  }
  if (window !== null) {
    const text = describeDuplicateWindow(window, "distinct messageIds", "an event that repeats a messageId further apart is not counted here, and send sends its entries again");
    lines.push(wrapStyled(`duplicates ${text}`, width, "  ", "    ", plain));
  }
  return lines;
}

function section({ style, width }: TextLayout, title: string, rows: string[]): string {
  if (rows.length === 0) {
    return "";
  }
  return [wrapStyled(title, width, "", "  ", style.bold), ...rows].join("\n");
}

/**
 * Returns the largest counts of a field, most frequent first, then the rest added to the row of
 * OTHER_VALUES, which already counts the values past the inventory's limit.
 */
function foldedEntries(counts: Readonly<Record<string, number>>): Array<[string, number]> {
  const other = counts[OTHER_VALUES] ?? 0;
  const sorted = Object.entries(counts)
    .filter(([value]) => value !== OTHER_VALUES)
    .sort((left, right) => right[1] - left[1]);
  if (sorted.length <= MAX_LISTED_VALUES && other === 0) {
    return sorted;
  }
  const rest = sorted.slice(MAX_LISTED_VALUES).reduce((total, [, count]) => total + count, other);
  return [...sorted.slice(0, MAX_LISTED_VALUES), [OTHER_VALUES, rest]];
}

function countRows(entries: ReadonlyArray<readonly [string, number]>, total: number | undefined, columns: number): string[] {
  // Labels are event types, names and libraries read from the events.
  const labels = entries.map(([label]) => escapeControlCharacters(label));
  const width = Math.max(0, ...labels.map((label) => displayWidth(label)));
  const rows = entries.map(([, count], index) => `  ${padColumns(labels[index] as string, width)}  ${formatCount(count).padStart(10)}${share(count, total)}`);
  if (rows.every((row) => displayWidth(row) <= columns)) {
    return rows;
  }
  return entries.map(([, count], index) => {
    const percent = total === undefined || total === 0 ? "" : ` (${((count * 100) / total).toFixed(1)}%)`;
    return wrapStyled(`${labels[index] as string}: ${formatCount(count)}${percent}`, columns, "  ", "    ", plain);
  });
}

function eventNamesTitle(report: EventProfileReport): string {
  const distinct = formatCount(report.distinctEventNames);
  return report.trackEventsWithUnlistedNames > 0 ? `Top track event names (more than ${distinct} distinct)` : `Top track event names (${distinct} distinct)`;
}

/**
 * Returns the rows of the top track event names, then a line for the track events without a name
 * and one for those whose names were past the inventory's limit.
 */
function eventNameRows(report: EventProfileReport, columns: number): string[] {
  const rows = countRows(report.topEventNames.map((name) => [name.name, name.count]), undefined, columns);
  const unnamed = report.trackEventsWithoutName;
  if (unnamed > 0) {
    const events = unnamed === 1 ? "1 track event" : `${formatCount(unnamed)} track events`;
    const verb = unnamed === 1 ? "is" : "are";
    rows.push(wrapStyled(`${events} without a name (event missing, empty or not a string) ${verb} not counted above`, columns, "  ", "    ", plain));
  }
  const unlisted = report.trackEventsWithUnlistedNames;
  if (unlisted > 0) {
    const events = unlisted === 1 ? "1 track event has" : `${formatCount(unlisted)} track events have`;
    rows.push(wrapStyled(`${events} a name past the first ${formatCount(MAX_DISTINCT_VALUES)} distinct ones, which inspect counts but does not list`, columns, "  ", "    ", plain));
  }
  return rows;
}

function identityRows(report: EventProfileReport, columns: number): string[] {
  const identity = report.identity;
  const rows: Array<[string, number]> = [
    ["email (traits, context.traits or properties)", identity.email],
    ["profile_id", identity.profileId],
    ["userId", identity.userId],
    ["anonymousId", identity.anonymousId],
    ["email or profile_id (Koala can attach these)", identity.emailOrProfileId],
    ["none of the four", identity.none],
  ];
  return countRows(rows, report.eventsRead, columns);
}

function mappingRows(report: InspectReport, text: TextLayout): string[] {
  const { style, width: columns } = text;
  const rows: string[] = [];
  const resent = report.resentDeadLetters;
  const labels = resent.read > 0 ? ["no mapping matched", "resent dead letters"] : ["no mapping matched"];
  // Names come from the config, so control characters in them are escaped, as the compact rows do.
  const width = Math.max(...report.mappings.map((mapping) => displayWidth(escapeControlCharacters(mapping.name))), ...labels.map((label) => label.length));
  if (MAPPING_ROW_COLUMNS + width > columns) {
    return compactMappingRows(report, text);
  }
  for (const mapping of report.mappings) {
    const head = `  ${padColumns(escapeControlCharacters(mapping.name), width)}  ${formatCount(mapping.matched).padStart(10)} matched  ${style.green(`${formatCount(mapping.wouldSend).padStart(10)} would be sent`)}`;
    rows.push(...appendNote(head, "  ", mapping.trigger, columns, style.dim));
    rows.push(...reasonRows(mapping, width, text));
  }
  if (resent.read > 0) {
    const head = `  ${"resent dead letters".padEnd(width)}  ${formatCount(resent.read).padStart(10)} read     ${style.green(`${formatCount(resent.wouldSend).padStart(10)} would be sent`)}`;
    rows.push(...appendNote(head, "  ", "lines of a dead-letter file, sent as written without a trigger", columns, style.dim));
    if (resent.invalid > 0) {
      const lines = resent.invalid === 1 ? "line" : "lines";
      rows.push(style.yellow(`  ${"".padEnd(width)}  ${formatCount(resent.invalid).padStart(10)} invalid ${lines}, which cannot be resent (${formatCount(resent.valid)} valid)`));
    }
    rows.push(...reasonRows(resent, width, text));
  }
  rows.push(`  ${"no mapping matched".padEnd(width)}  ${formatCount(report.noMappingMatched).padStart(10)}`);
  if (report.filteredOut > 0) {
    rows.push(...appendNote(`  ${"filtered out".padEnd(width)}  ${formatCount(report.filteredOut).padStart(10)}`, "  ", "excluded by --filter, --since or --until", columns, plain));
  }
  return rows;
}

/** Columns of a mapping row besides its name: the indent, the gaps and the two counts with their words. */
const MAPPING_ROW_COLUMNS = "  ".length + "  ".length + 10 + " matched  ".length + 10 + " would be sent".length;

/**
 * Writes the rows of `mappingRows` as lines of their own, `name: 3 matched, 2 would be sent`, with
 * the trigger and the reasons below, for a terminal too narrow for the table.
 */
function compactMappingRows(report: InspectReport, text: TextLayout): string[] {
  const { style, width: columns } = text;
  const rows: string[] = [];
  const line = (content: string, indent: string, color: (text: string) => string = plain): string => wrapStyled(content, columns, indent, `${indent}  `, color);
  for (const mapping of report.mappings) {
    const name = escapeControlCharacters(mapping.name);
    rows.push(highlightWouldSend(line(`${name}: ${formatCount(mapping.matched)} matched, ${formatCount(mapping.wouldSend)} would be sent`, "  "), mapping.wouldSend, style));
    rows.push(line(escapeControlCharacters(mapping.trigger), "    ", style.dim));
    rows.push(...compactReasonRows(mapping, text));
  }
  const resent = report.resentDeadLetters;
  if (resent.read > 0) {
    rows.push(highlightWouldSend(line(`resent dead letters: ${formatCount(resent.read)} read, ${formatCount(resent.wouldSend)} would be sent`, "  "), resent.wouldSend, style));
    rows.push(line("lines of a dead-letter file, sent as written without a trigger", "    ", style.dim));
    if (resent.invalid > 0) {
      const lines = resent.invalid === 1 ? "line" : "lines";
      rows.push(line(`${formatCount(resent.invalid)} invalid ${lines}, which cannot be resent (${formatCount(resent.valid)} valid)`, "    ", style.yellow));
    }
    rows.push(...compactReasonRows(resent, text));
  }
  rows.push(line(`no mapping matched: ${formatCount(report.noMappingMatched)}`, "  "));
  if (report.filteredOut > 0) {
    rows.push(line(`filtered out: ${formatCount(report.filteredOut)} (excluded by --filter, --since or --until)`, "  "));
  }
  return rows;
}

/** Colours the count that would be sent, as the table does, unless wrapping split it over two lines. */
function highlightWouldSend(wrapped: string, wouldSend: number, style: TextStyle): string {
  const words = `${formatCount(wouldSend)} would be sent`;
  const at = wrapped.lastIndexOf(words);
  return at < 0 ? wrapped : `${wrapped.slice(0, at)}${style.green(words)}${wrapped.slice(at + words.length)}`;
}

function compactReasonRows(tally: Pick<InspectReport["mappings"][number], "skippedByReason" | "invalidByReason">, { style, width: columns }: TextLayout): string[] {
  const rows: string[] = [];
  for (const [reason, count] of Object.entries(tally.skippedByReason)) {
    rows.push(wrapStyled(`${formatCount(count)} skipped: ${skipReasonText[reason as SkipReason] ?? reason}`, columns, "    ", "      ", plain));
  }
  for (const [reason, count] of listedInvalidReasons(tally.invalidByReason)) {
    rows.push(wrapStyled(`${formatCount(count)} invalid: ${escapeControlCharacters(reason)}`, columns, "    ", "      ", style.yellow));
  }
  return rows;
}

/**
 * Returns the most frequent invalid reasons, then one row that counts the events of the others and
 * of `OTHER_REASONS`. The JSON report lists the reasons, up to 100.
 */
function listedInvalidReasons(counts: Readonly<Record<string, number>>): Array<[string, number]> {
  const folded = counts[OTHER_REASONS] ?? 0;
  const invalid = Object.entries(counts)
    .filter(([reason]) => reason !== OTHER_REASONS)
    .sort((left, right) => right[1] - left[1]);
  const listed = invalid.length > MAX_LISTED_REASONS + 1 || folded > 0 ? invalid.slice(0, MAX_LISTED_REASONS) : invalid;
  const others = invalid.slice(listed.length).reduce((total, [, count]) => total + count, folded);
  return others > 0 ? [...listed, ["other reasons, which --json lists", others]] : listed;
}

/** Lists the entries of a mapping, or of the resent dead letters, that would not be sent, by reason. */
function reasonRows(tally: Pick<InspectReport["mappings"][number], "skippedByReason" | "invalidByReason">, width: number, { style, width: columns }: TextLayout): string[] {
  const rows: string[] = [];
  for (const [reason, count] of Object.entries(tally.skippedByReason)) {
    rows.push(...appendNote(`  ${"".padEnd(width)}  ${formatCount(count).padStart(10)}`, " ", `skipped: ${skipReasonText[reason as SkipReason] ?? reason}`, columns, plain));
  }
  for (const [reason, count] of listedInvalidReasons(tally.invalidByReason)) {
    const lines = appendNote(`  ${"".padEnd(width)}  ${formatCount(count).padStart(10)}`, " ", `invalid: ${reason}`, columns, plain);
    rows.push(...lines.map((line) => style.yellow(line)));
  }
  return rows;
}

/** Says whether the counts include identity stitching and, when they do, the entries by identity before and after it. */
function stitchingLines(report: InspectReport, width: number): string {
  const stitching = report.identityStitching;
  const note = wrapStyled(stitching.note, width, "", "  ", plain);
  if (!stitching.applied) {
    return note;
  }
  const coverage = new IdentityCoverage();
  Object.assign(coverage.before, stitching.before);
  Object.assign(coverage.after, stitching.after);
  coverage.conflicts = stitching.conflicts;
  return [note, ...formatCoverage(coverage).map((line) => wrapStyled(line, width, "  ", "    ", plain))].join("\n");
}

function requestLine(report: InspectReport): string {
  const estimated = report.requests.estimated;
  if (estimated === 0) {
    return "A send would make no request.";
  }
  return `A send would make about ${formatCount(estimated)} ${estimated === 1 ? "request" : "requests"} (${report.requests.method}).`;
}

function share(count: number, total: number | undefined): string {
  if (total === undefined || total === 0) {
    return "";
  }
  return `  ${((count * 100) / total).toFixed(1).padStart(5)}%`;
}
