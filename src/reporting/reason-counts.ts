/**
 * Distinct reasons counted apart in each group (a mapping, or a status and cause of failure). A
 * reason text may hold a value of the event or of Koala's response, such as a timestamp or a
 * request id. Without a bound, an archive whose every event fails that way would add a row per
 * event to the summary and the report, and grow the counts with the input.
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

/**
 * Counts `key` in `counts`, a map of one group's reasons, or under `otherKey` once the map contains
 * `MAX_REASONS_PER_GROUP` other texts.
 */
export function countBoundedReason(counts: Map<string, number>, key: string, otherKey: string): void {
  const texts = counts.size - (counts.has(otherKey) ? 1 : 0);
  const counted = counts.has(key) || texts < MAX_REASONS_PER_GROUP ? key : otherKey;
  counts.set(counted, (counts.get(counted) ?? 0) + 1);
}
