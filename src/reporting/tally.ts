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

/** The separator before the value that a reason quotes, as `describeValue` and the computed-path and template errors write it. */
const FOUND = ", found ";

/**
 * Matches the value descriptions that `describeValue` writes, and the quoted path or placeholder of a
 * computed `@path` or `@template`, which may add where in it the problem is. Other text after
 * ", found " stays in the reason.
 */
const DESCRIBED_VALUE = /^(?:string ".*"|string of \d+ characters|(?:number|boolean) \S+|null|undefined|array of \d+ items?|object|bigint|symbol|function|placeholder ".*")(?: at position \d+)?$/su;

/**
 * Splits a reason that ends with the value it found (`…, found string "yesterday"`) into the reason
 * and the value, so that events with different bad values count under one reason. The first ", found "
 * followed by a described value wins, because the quoted value itself may contain ", found ".
 */
export function splitFoundValue(reason: string): { reason: string; found?: string } {
  for (let at = reason.indexOf(FOUND); at !== -1; at = reason.indexOf(FOUND, at + 1)) {
    const found = reason.slice(at + FOUND.length);
    if (DESCRIBED_VALUE.test(found)) {
      return { reason: reason.slice(0, at), found };
    }
  }
  return { reason };
}
