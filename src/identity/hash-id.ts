/**
 * 64-bit keys for identity ids, so the graph stores 8 bytes per id instead of the id's string.
 *
 * NOTE: two different ids that share a key would share an email. With 64-bit keys the chance of any
 * such pair among n ids is about n² / 2^65: about 3 in a million for ten million ids.
 */

/** Output of {@link hashId}: index 0 is the high half of the key, index 1 the low half. */
export type IdKey = Uint32Array;

export function createIdKey(): IdKey {
  return new Uint32Array(2);
}

/**
 * Hashes `id` into `key` (written in place, so hashing allocates nothing). Two 32-bit FNV-1a style
 * lanes with different primes read the UTF-16 code units, and the MurmurHash3 finaliser mixes each.
 */
export function hashId(id: string, key: IdKey): void {
  let high = 0x811c9dc5;
  let low = 0x9747b28c;

  for (let index = 0; index < id.length; index++) {
    const codeUnit = id.charCodeAt(index);
    high = Math.imul(high ^ codeUnit, 0x01000193);
    low = Math.imul(low ^ codeUnit, 0x5bd1e995);
    low ^= low >>> 15;
  }

  key[0] = mixFinal(high ^ id.length);
  key[1] = mixFinal(low);
}

function mixFinal(value: number): number {
  let mixed = value;
  mixed ^= mixed >>> 16;
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  mixed ^= mixed >>> 16;
  return mixed >>> 0;
}
