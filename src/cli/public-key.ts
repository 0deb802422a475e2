import { UsageError } from "./errors.js";
import { maskPublicKey } from "../reporting/mask.js";

/**
 * Characters that no public key contains: white space and control characters, which a copy adds,
 * and the `<`, `>`, `*`, quotes and backticks of placeholders, masked keys and shell quoting. No key
 * format is documented, so every other character is accepted, and the URL of a request carries it
 * percent-encoded where needed.
 */
const NOT_IN_PUBLIC_KEY = /[\s\p{Cc}<>*"'`]/u;

/**
 * Raises a UsageError, before any request, for a public key that cannot be a Koala key: empty, or
 * with a character of NOT_IN_PUBLIC_KEY. The placeholder `<public key>` of a printed command
 * and a masked key such as `pk_a****` get a message of their own, because both are pasted from
 * koala-replay's own output.
 */
export function checkPublicKeyFormat(key: string, source: string): void {
  if (key.length === 0) {
    throw new UsageError(`${source} is empty`, "give your Koala public key (Koala: Settings › Install)");
  }
  if (!NOT_IN_PUBLIC_KEY.test(key)) {
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
    `invalid public key ${maskPublicKey(key)} in ${source}: a Koala public key contains no spaces, control characters, quotes or backticks`,
    "copy the key again from Koala (Settings › Install), without quotes or spaces",
  );
}
