import { formatCount } from "../reporting/count-format.js";

/** Entries by how Koala can attach them to a person. The three counts add up to the entries counted. */
export interface CoverageCounts {
  withEmail: number;
  /** Entries with a `profile_id` and no email. */
  withProfileIdOnly: number;
  /** Entries Koala would drop: no email and no `profile_id`. */
  withNeither: number;
}

/**
 * Counts entries before and after identity stitching. The pipeline calls `countBefore` with what the
 * mapped entry had on its own and `countAfter` with what it has once the graph's email is added.
 */
export class IdentityCoverage {
  readonly before: CoverageCounts = emptyCounts();
  readonly after: CoverageCounts = emptyCounts();
  /** Email conflicts of the identity graph, copied here for the summary. */
  conflicts = 0;

  countBefore(hasEmail: boolean, hasProfileId: boolean): void {
    addTo(this.before, hasEmail, hasProfileId);
  }

  countAfter(hasEmail: boolean, hasProfileId: boolean): void {
    addTo(this.after, hasEmail, hasProfileId);
  }

  /** Entries that gained an email through stitching. */
  get stitched(): number {
    return this.after.withEmail - this.before.withEmail;
  }
}

function emptyCounts(): CoverageCounts {
  return { withEmail: 0, withProfileIdOnly: 0, withNeither: 0 };
}

function addTo(counts: CoverageCounts, hasEmail: boolean, hasProfileId: boolean): void {
  if (hasEmail) counts.withEmail++;
  else if (hasProfileId) counts.withProfileIdOnly++;
  else counts.withNeither++;
}

/**
 * Formats the coverage for the run summary, one line each before and after stitching and one for
 * conflicts, for example:
 *
 *     identity before stitching: 1,200 with email, 30 with profile_id only, 8,770 with neither
 *     identity after stitching: 9,100 with email, 30 with profile_id only, 870 with neither (7,900 stitched)
 *     identity conflicts: 4 observations disagreed with an id's email; the latest email was used
 */
export function formatCoverage(coverage: IdentityCoverage): string[] {
  const lines = [
    `identity before stitching: ${formatCounts(coverage.before)}`,
    `identity after stitching: ${formatCounts(coverage.after)} (${formatCount(coverage.stitched)} stitched)`,
  ];
  if (coverage.conflicts > 0) {
    const observations = coverage.conflicts === 1 ? "observation" : "observations";
    lines.push(`identity conflicts: ${formatCount(coverage.conflicts)} ${observations} disagreed with an id's email; the latest email was used`);
  }
  return lines;
}

function formatCounts(counts: CoverageCounts): string {
  return [
    `${formatCount(counts.withEmail)} with email`,
    `${formatCount(counts.withProfileIdOnly)} with profile_id only`,
    `${formatCount(counts.withNeither)} with neither`,
  ].join(", ");
}
