/**
 * Distinct reasons counted apart in each group (a status and cause of failure). A failure reason
 * ends with an excerpt of Koala's response, which may hold a request id. Without a bound, a run whose
 * every request fails that way would add a row per entry to the summary and the report, and grow
 * the counts with the input.
 */
export const MAX_REASONS_PER_GROUP = 10;

/**
 * Counts of reasons by their text, with at most `MAX_REASONS_PER_GROUP` texts for each group. A
 * further text of a full group is counted under that group's `otherKey`.
 */
export class BoundedReasonCounts {
  readonly counts = new Map<string, number>();
  private readonly textsByGroup = new Map<string, number>();

  /** Counts `key` in `group` and returns the key it was counted under, `key` or `otherKey`. */
  add(group: string, key: string, otherKey: string, count = 1): string {
    let counted = key;
    if (!this.counts.has(key)) {
      const texts = this.textsByGroup.get(group) ?? 0;
      if (texts < MAX_REASONS_PER_GROUP) {
        this.textsByGroup.set(group, texts + 1);
      } else {
        counted = otherKey;
      }
    }
    this.counts.set(counted, (this.counts.get(counted) ?? 0) + count);
    return counted;
  }
}
