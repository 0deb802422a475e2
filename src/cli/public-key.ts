import { UsageError } from "./errors.js";
import { maskPublicKey } from "../reporting/mask.js";

/**
 * Characters that a public key may contain: those a URL path segment carries without percent-encoding
 * (RFC 3986 unreserved), because the key is a segment of every request's URL. No key format is
 * documented, so any length of these characters is accepted.
 */
const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9._~-]+$/;

/**
 * Raises a UsageError, before any request, for a public key that cannot be a Koala key: empty, or
 * with a character outside PUBLIC_KEY_PATTERN. The placeholder `<public key>` of a printed command
 * and a masked key such as `pk_a****` get a message of their own, because both are pasted from
 * koala-replay's own output.
 */
export function checkPublicKeyFormat(key: string, source: string): void {
  if (key.length === 0) {
    throw new UsageError(`${source} is empty`, "give your Koala public key (Koala: Settings › Install)");
  }
  if (PUBLIC_KEY_PATTERN.test(key)) {
    return;
  }
  if (key.includes("<") || key.includes(">")) {
    throw new UsageError(
      `invalid public key in ${source}: it is the placeholder in angle brackets that printed commands show, not a key`,
      "replace the placeholder with your Koala public key (Koala: Settings › Install), or leave --public-key out and set KOALA_PUBLIC_KEY",
    );
  }
  if (key.includes("*")) {
    throw new UsageError(
      `invalid public key ${maskPublicKey(key)} in ${source}: it contains *, as a masked key does`,
      "koala-replay prints keys masked; give the whole key (Koala: Settings › Install)",
    );
  }
  throw new UsageError(
    `invalid public key ${maskPublicKey(key)} in ${source}: a Koala public key contains only letters, digits, _, -, . and ~, and no spaces`,
    "copy the key again from Koala (Settings › Install), without quotes or spaces",
  );
}
