/** Characters of a public key that may be shown: enough to tell two keys apart, too few to use one. */
const VISIBLE_PREFIX_LENGTH = 4;

/** Keys shorter than this are masked entirely, because 4 visible characters would be most of the key. */
const MIN_LENGTH_FOR_PREFIX = 12;

/**
 * Masks a Koala public key for output: `pk_abcdef123456` becomes `pk_a****`. At most the first 4
 * characters are shown, and a short key is masked entirely (`****`).
 */
export function maskPublicKey(key: string): string {
  if (key.length < MIN_LENGTH_FOR_PREFIX) {
    return "****";
  }
  return `${key.slice(0, VISIBLE_PREFIX_LENGTH)}****`;
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
  if (key.length >= MIN_LENGTH_FOR_PREFIX) {
    return text.split(key).join(masked);
  }
  const escaped = key.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, "g"), () => masked);
}
