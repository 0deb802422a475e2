import type { CoverageCounts, IdentityCoverage, IdentityGraphStats } from "../identity/index.js";
import type { ForecastStitching, StitchingOffReason } from "../pipeline/send-forecast.js";
import { nameReadOnceInputs } from "../inputs/read-once.js";
import { formatCount } from "./count-format.js";

/** Identity stitching of an `inspect` or `preview` run, as the commands collected it. */
export interface ForecastStitchingResult {
  settings: ForecastStitching;
  coverage: IdentityCoverage;
  /** Counts of the identity graph; undefined with stitching off. */
  graph: IdentityGraphStats | undefined;
}

/** Identity stitching as `inspect --json` reports it. Keys are documented in docs/reports.md. */
export interface StitchingReport {
  /** Whether the counts include identity stitching, as `send` applies it. */
  applied: boolean;
  /** Why stitching was off: `no-stitch`, `stdin-without-identities` or `pipe-without-identities`; null when it was applied. */
  reason: StitchingOffReason | null;
  identitiesFile: string | null;
  /** userIds and anonymousIds that the identity graph links to an email. */
  idsWithEmail: number;
  /** Mapped entries by identity, before and after stitching, counted as `send` counts them. */
  before: CoverageCounts;
  after: CoverageCounts;
  stitched: number;
  conflicts: number;
  /** The same facts in words, for people. */
  note: string;
}

export function buildStitchingReport(result: ForecastStitchingResult): StitchingReport {
  const { settings, coverage } = result;
  return {
    applied: settings.stitch,
    reason: settings.stitch ? null : settings.reason,
    identitiesFile: settings.stitch ? (settings.identitiesFile ?? null) : null,
    idsWithEmail: result.graph?.idsWithEmail ?? 0,
    before: { ...coverage.before },
    after: { ...coverage.after },
    stitched: coverage.stitched,
    conflicts: coverage.conflicts,
    note: stitchingNote(result, "Counts"),
  };
}

/**
 * Writes the sentences that `inspect` and `preview` print on whether what they show (the `subject`,
 * such as "Counts") includes identity stitching, and why.
 */
export function stitchingNote(result: ForecastStitchingResult, subject: string): string {
  const { settings, coverage } = result;
  if (!settings.stitch) {
    if (settings.reason === "no-stitch") {
      return `${subject} are without identity stitching (--no-stitch), as send --no-stitch sends.`;
    }
    const readOnce = settings.readOnceInputs ?? [];
    if (readOnce.some((input) => input.input !== "-")) {
      return (
        `${subject} are without identity stitching, as send --no-stitch sends: stitching reads the inputs twice, and ` +
        `${nameReadOnceInputs(readOnce)} can be read only once. send reads such inputs only with --no-stitch or with ` +
        "--identities <file>, so give --identities <file> here too to count with stitching, or save the events to a regular file."
      );
    }
    return (
      `${subject} are without identity stitching, as send --no-stitch sends: stitching reads the inputs twice, and standard input can be read only once. ` +
      "send reads stdin only with --no-stitch or with --identities <file>; give --identities <file> here too to count with stitching."
    );
  }
  const stitched = coverage.stitched;
  const ids = result.graph?.idsWithEmail ?? 0;
  const source = settings.identitiesFile === undefined ? "the input files" : `the input files and ${settings.identitiesFile}`;
  // The first pass skips stdin, as send's does, so identify calls read from it give no email.
  const stdinNote = settings.readsStdin ? " Identify calls read from standard input are not used, because it can be read only once." : "";
  return (
    `${subject} include identity stitching, as send applies it: ${formatCount(stitched)} ${stitched === 1 ? "entry" : "entries"} without an email got the email ` +
    `that their userId or anonymousId has in ${source} (${formatCount(ids)} ${ids === 1 ? "id" : "ids"} linked to an email).${stdinNote} Add --no-stitch to leave it out.`
  );
}
