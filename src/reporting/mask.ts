/**
 * Masks Koala's public key for display: at most its first 4 characters stay readable, so two keys
 * can be told apart in a log without the key being usable. Keys of 8 characters or fewer are
 * masked whole.
 */
export function maskPublicKey(key: string): string {
  if (key.length <= 8) {
    return "****";
  }
  return `${key.slice(0, 4)}****`;
}

/** Replaces every occurrence of the key in a text (a URL, an error message) with its masked form. */
export function maskSecret(text: string, key: string | undefined): string {
  if (key === undefined || key === "") {
    return text;
  }
  return text.split(key).join(maskPublicKey(key));
}
