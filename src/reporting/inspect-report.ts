import type { SourcedEmailPattern } from "../pipeline/email-exclusion.js";
import type { ArchiveInventory, MappingTally } from "./archive-inventory.js";
import type { EventProfile } from "./event-profile.js";
import { hideEmails } from "./email-mask.js";
import { buildStitchingReport, type ForecastStitchingResult, type StitchingReport } from "./stitching-note.js";

/**
 * Version of the `inspect --json` layout; it changes only when a key is renamed, removed or changes
 * meaning. In 2, `topEventNames` lists no "(other values)" row, whose events
 * `trackEventsWithUnlistedNames` counts.
 */
export const INSPECT_REPORT_VERSION = 2;

export interface InspectReportContext {
  version: string;
  /** Absolute path of the directory the inputs given as relative paths are relative to. */
  workingDirectory: string;
  inputs: readonly string[];
  browserEvents: string;
  /** Origin of the mappings: "presets" or a config file. */
  mappingSource: string;
  topCount: number;
  stitching: ForecastStitchingResult;
  /** Email patterns in effect, from the config and `--exclude-emails`. */
  excludeEmails: readonly SourcedEmailPattern[];
  /** The options among `--filter`, `--since` and `--until` that were given, which `passingFilters` names. */
  filterOptions: readonly string[];
}

/** Counts of one mapping, or of the resent dead letters, over the events of the inputs. */
export interface MappingReport {
  name: string;
  action: string;
  trigger: string;
  matched: number;
  wouldSend: number;
  skippedByReason: Record<string, number>;
  invalidByReason: Record<string, number>;
}

/** The JSON printed by `inspect --json`. Keys are documented in docs/reports.md. */
export interface InspectReport {
  reportVersion: number;
  tool: { name: "koala-replay"; version: string };
  command: "inspect";
  /** Directory the relative paths of `inputs` and `unreadableExamples` are relative to. */
  workingDirectory: string;
  inputs: string[];
  filesRead: number;
  filesSkipped: Array<{ path: string; reason: string }>;
  eventsRead: number;
  /** Events whose messageId an earlier event had; send reads them but skips their entries as duplicates. */
  /** `window` is null unless the inputs had more distinct messageIds than the check remembers (see `DuplicateEvents`). */
  duplicateEvents: {
    count: number;
    firstAt: { input: string; line: number } | null;
    inputsOfDuplicatesOnly: string[];
    window: number | null;
    /** Those of `count` whose messageId is a JSON number past 2^53, which may be other events rounded to one id. */
    roundedMessageIds: number;
  };
  unreadable: number;
  unreadableByReason: Record<string, number>;
  /** The first 10 unreadable lines or files, with where they are and why. */
  unreadableExamples: Array<{ input: string; line: number; reason: string; message: string }>;
  /** The first 10 CSV files counted under `unknown-csv-table`, whether or not `unreadableExamples` has them. */
  unknownCsvTableFiles: string[];
  eventsByType: Record<string, number>;
  topEventNames: Array<{ name: string; count: number }>;
  distinctEventNames: number;
  /** Track events whose `event` is missing, empty or not a string. Neither count above includes them. */
  trackEventsWithoutName: number;
  /**
   * Track events whose name came after the first `MAX_DISTINCT_VALUES` distinct names, which are
   * counted here and not listed, so `distinctEventNames` is then a lower bound.
   */
  trackEventsWithUnlistedNames: number;
  libraries: Record<string, number>;
  timeRange: { earliest: string | null; latest: string | null; eventsWithoutTimestamp: number };
  identity: { email: number; userId: number; anonymousId: number; profileId: number; emailOrProfileId: number; none: number };
  mappingSource: string;
  browserEvents: string;
  /** Email patterns in effect, as written: `source` is `excludeEmails` (of the config at `mappingSource`) or `--exclude-emails`. */
  excludeEmails: SourcedEmailPattern[];
  mappings: MappingReport[];
  /**
   * Lines of a dead-letter file given as input, sent as written: `read` lines, of which `valid` carry
   * an entry to resend and `invalid` do not, then as for a mapping.
   */
  resentDeadLetters: Omit<MappingReport, "name" | "action" | "trigger" | "matched"> & { read: number; valid: number; invalid: number };
  noMappingMatched: number;
  filteredOut: number;
  /**
   * The counts above from `eventsRead` to `identity`, of the events that pass `--filter`, `--since`
   * and `--until`, and the `options` given. Null when none of these options is given.
   */
  passingFilters: (EventProfileReport & { options: string[] }) | null;
  requests: { estimated: number; method: string };
  identityStitching: StitchingReport;
}

/** The counts of `EventProfile`, as `inspect --json` writes them both for all events and for those that pass the filters. */
export type EventProfileReport = Pick<
  InspectReport,
  | "eventsRead"
  | "eventsByType"
  | "topEventNames"
  | "distinctEventNames"
  | "trackEventsWithoutName"
  | "trackEventsWithUnlistedNames"
  | "libraries"
  | "timeRange"
  | "identity"
>;

export function buildInspectReport(inventory: ArchiveInventory, context: InspectReportContext): InspectReport {
  const all = profileReport(inventory.profile, context.topCount);
  const passing = inventory.passingProfile;
  return {
    reportVersion: INSPECT_REPORT_VERSION,
    tool: { name: "koala-replay", version: context.version },
    command: "inspect",
    workingDirectory: context.workingDirectory,
    inputs: [...context.inputs],
    filesRead: inventory.filesRead,
    filesSkipped: inventory.filesSkipped.map((file) => ({ path: file.path, reason: file.reason })),
    eventsRead: all.eventsRead,
    duplicateEvents: {
      count: inventory.duplicates.count,
      firstAt: inventory.duplicates.firstAt === undefined ? null : { ...inventory.duplicates.firstAt },
      inputsOfDuplicatesOnly: [...inventory.duplicates.inputsOfDuplicatesOnly],
      window: inventory.duplicates.window ?? null,
      roundedMessageIds: inventory.duplicates.rounded.count,
    },
    unreadable: inventory.unreadableCount,
    unreadableByReason: objectByCount(inventory.unreadableByReason),
    // A message can quote the line, and an email in it is hidden as in send's warnings.
    unreadableExamples: inventory.unreadableExamples.map((problem) => ({ ...problem.origin, reason: problem.reason, message: hideEmails(problem.message) })),
    unknownCsvTableFiles: [...inventory.unknownCsvTableFiles],
    eventsByType: all.eventsByType,
    topEventNames: all.topEventNames,
    distinctEventNames: all.distinctEventNames,
    trackEventsWithoutName: all.trackEventsWithoutName,
    trackEventsWithUnlistedNames: all.trackEventsWithUnlistedNames,
    libraries: all.libraries,
    timeRange: all.timeRange,
    identity: all.identity,
    mappingSource: context.mappingSource,
    browserEvents: context.browserEvents,
    excludeEmails: context.excludeEmails.map(({ pattern, source }) => ({ pattern, source })),
    mappings: inventory.mappings.map(mappingReport),
    resentDeadLetters: {
      read: inventory.resentDeadLetters.matched,
      valid: inventory.resentDeadLetterLines.valid,
      invalid: inventory.resentDeadLetterLines.invalid,
      wouldSend: inventory.resentDeadLetters.wouldSend,
      skippedByReason: objectByCount(inventory.resentDeadLetters.skippedByReason),
      invalidByReason: objectByCount(inventory.resentDeadLetters.invalidByReason),
    },
    noMappingMatched: inventory.noMappingMatched,
    filteredOut: inventory.filteredOut,
    passingFilters: passing === undefined ? null : { options: [...context.filterOptions], ...profileReport(passing, context.topCount) },
    requests: { estimated: inventory.estimator.count(), method: inventory.estimator.method },
    identityStitching: buildStitchingReport(context.stitching),
  };
}

function profileReport(profile: EventProfile, topCount: number): EventProfileReport {
  const names = sortedByCount(profile.eventNames);
  return {
    eventsRead: profile.eventsRead,
    eventsByType: objectByCount(profile.eventsByType),
    topEventNames: names.slice(0, topCount).map(([name, count]) => ({ name, count })),
    distinctEventNames: names.length,
    trackEventsWithoutName: profile.trackEventsWithoutName,
    trackEventsWithUnlistedNames: profile.trackEventsWithUnlistedNames,
    libraries: objectByCount(profile.libraries),
    timeRange: {
      earliest: isoOrNull(profile.earliestTimestampMs),
      latest: isoOrNull(profile.latestTimestampMs),
      eventsWithoutTimestamp: profile.eventsWithoutTimestamp,
    },
    identity: { ...profile.identity },
  };
}

function mappingReport(tally: MappingTally): MappingReport {
  return {
    name: tally.name,
    action: tally.action,
    trigger: tally.trigger,
    matched: tally.matched,
    wouldSend: tally.wouldSend,
    skippedByReason: objectByCount(tally.skippedByReason),
    invalidByReason: objectByCount(tally.invalidByReason),
  };
}

function isoOrNull(timeMs: number | undefined): string | null {
  return timeMs === undefined ? null : new Date(timeMs).toISOString();
}

export function sortedByCount<K>(map: ReadonlyMap<K, number>): Array<[K, number]> {
  return [...map.entries()].sort((left, right) => right[1] - left[1]);
}

function objectByCount(map: ReadonlyMap<string, number>): Record<string, number> {
  // A null prototype keeps an event type or reason named "__proto__" an ordinary key.
  const result = Object.create(null) as Record<string, number>;
  for (const [key, count] of sortedByCount(map)) {
    result[key] = count;
  }
  return result;
}
