/**
 * Adds `count` to `key` and returns the key counted. A new key goes to `otherKey` instead once the tally
 * contains `maxKeys` others, because a messy archive can have a different reason or type in every event.
 */
export function addToTally<K>(counts: Map<K, number>, key: K, otherKey: K, maxKeys: number, count = 1): K {
  const current = counts.get(key);
  if (current !== undefined) {
    counts.set(key, current + count);
    return key;
  }
  const otherCount = counts.get(otherKey);
  const keys = counts.size - (otherCount === undefined ? 0 : 1);
  if (keys < maxKeys) {
    counts.set(key, count);
    return key;
  }
  counts.set(otherKey, (otherCount ?? 0) + count);
  return otherKey;
}

/** The separator before the value that a reason quotes, as `describeValue` wrote it. */
const FOUND = ", found ";

/** Matches the value descriptions that `describeValue` writes. Other text after ", found " stays in the reason. */
const DESCRIBED_VALUE = /^(?:string ".*"|string of \d+ characters|(?:number|boolean) \S+|null|undefined|array of \d+ items?|object|bigint|symbol|function)$/su;

/**
 * Splits a reason that ends with the value it found (`…, found string "yesterday"`) into the reason
 * and the value, so that events with different bad values count under one reason.
 */
export function splitFoundValue(reason: string): { reason: string; found?: string } {
  const at = reason.lastIndexOf(FOUND);
  if (at === -1) {
    return { reason };
  }
  const found = reason.slice(at + FOUND.length);
  return DESCRIBED_VALUE.test(found) ? { reason: reason.slice(0, at), found } : { reason };
}
