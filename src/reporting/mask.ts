/** Characters of a public key that may be shown: enough to tell two keys apart, too few to use one. */
const VISIBLE_PREFIX_LENGTH = 4;

/**
 * Keys shorter than this show fewer than 4 characters when masked, and `check` warns that they look
 * too short. NOTE: 12 is koala-replay's own threshold, not a length that Koala documents.
 */
export const MIN_PUBLIC_KEY_LENGTH = 12;

/** A masked key shows at most this share of its characters, so that a short key keeps most of them hidden. */
const MAX_VISIBLE_SHARE = 1 / 3;

/**
 * Masks a Koala public key for output as its first characters and `****`: `pk_abcdef123456` becomes
 * `pk_a****`. A key shows at most 4 characters and at most a third of its length, so `pk_test`
 * becomes `pk****`, and a key of 1 or 2 characters becomes `****`.
 */
export function maskPublicKey(key: string): string {
  const visible = Math.min(VISIBLE_PREFIX_LENGTH, Math.floor(key.length * MAX_VISIBLE_SHARE));
  return `${key.slice(0, visible)}****`;
}

/** Checks whether a public key is shorter than koala-replay expects of a Koala public key. */
export function isShortPublicKey(key: string): boolean {
  return key.length < MIN_PUBLIC_KEY_LENGTH;
}

/**
 * Replaces every occurrence of `key` in `text` with its mask, including its URL-encoded form, so
 * URLs, error messages and response excerpts can be shown or stored. An empty key changes nothing.
 */
export function maskSecret(text: string, key: string | undefined): string {
  if (key === undefined || key.length === 0) {
    return text;
  }
  const masked = maskPublicKey(key);
  let result = replaceKey(text, key, masked);
  const encoded = encodeURIComponent(key);
  if (encoded !== key) {
    result = replaceKey(result, encoded, masked);
  }
  return result;
}

/**
 * Replaces `key` with `masked`. A key shorter than a real one (a test key such as `x`) is replaced
 * only where no letter, digit, `_` or `-` touches it, so that it does not mask the words it occurs
 * in (`maxRps`). A key of real length is replaced wherever it occurs.
 */
function replaceKey(text: string, key: string, masked: string): string {
  if (!isShortPublicKey(key)) {
    return text.split(key).join(masked);
  }
  const escaped = key.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, "g"), () => masked);
}
