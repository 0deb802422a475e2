import { existsSync } from "node:fs";
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
 * Characters that a terminal shows as nothing or as a plain space, which a copy from a web page or
 * a chat can add to a key unseen. They are the format characters (zero-width space and joiners, the
 * byte order mark, soft hyphen, direction marks), the no-break and other Unicode spaces, the Hangul
 * fillers and the Braille blank, private-use and unassigned code points, and lone surrogates. A key
 * with one of them is not the key that Koala issued, so its requests would fail as with a wrong key.
 */
const INVISIBLE_IN_PUBLIC_KEY = /[\p{Cf}\p{Co}\p{Cn}\p{Cs}\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u115F\u1160\u3164\uFFA0\u2800]/u;

/**
 * Keys that a URL path cannot carry: percent-encoding leaves `.` and `..` as they are, and a URL
 * parser reads them as the current and the parent folder, so the request would go to another path.
 */
const DOT_SEGMENTS: ReadonlySet<string> = new Set([".", ".."]);

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
  const invisible = INVISIBLE_IN_PUBLIC_KEY.exec(key);
  if (invisible !== null) {
    // Counted in characters, not UTF-16 units, as an editor counts them.
    const position = [...key.slice(0, invisible.index)].length + 1;
    throw new UsageError(
      `invalid public key ${maskPublicKey(key)} in ${source}: it contains the invisible character ${describeCodePoint(invisible[0])} at position ${position}, which a copy from a web page or chat can add`,
      "type the key again, or copy it again from Koala (Settings › Install) into a plain-text editor first",
    );
  }
  if (DOT_SEGMENTS.has(key)) {
    throw new UsageError(
      `invalid public key "${key}" in ${source}: a key of only dots would change the path of the request URL`,
      "give your Koala public key (Koala: Settings › Install)",
    );
  }
  if (source === "--public-key" && looksLikeInput(key)) {
    // An option missing its value takes the next argument, often the input (`--public-key events.jsonl`).
    throw new UsageError(
      `invalid public key ${maskPublicKey(key)} in --public-key: it looks like an input file, not a key, so --public-key probably lacks its value and took the next argument`,
      "put your Koala public key right after --public-key, or leave the option out and set KOALA_PUBLIC_KEY",
    );
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

/** Checks whether a value given as the key is `-` (stdin), names an existing file or folder, or reads like the path of an input. */
function looksLikeInput(value: string): boolean {
  return value === "-" || value.includes("/") || /\.(jsonl|ndjson|json|csv|txt|gz)$/i.test(value) || existsSync(value);
}

/** Names of the invisible characters that copies add most often. */
const CHARACTER_NAMES: Readonly<Record<string, string>> = {
  "\u00A0": "no-break space",
  "\u00AD": "soft hyphen",
  "\u200B": "zero-width space",
  "\u200C": "zero-width non-joiner",
  "\u200D": "zero-width joiner",
  "\u200E": "left-to-right mark",
  "\u200F": "right-to-left mark",
  "\u2060": "word joiner",
  "\uFEFF": "byte order mark",
};

/** Names a character by its code point, and its name when it is in CHARACTER_NAMES: `U+200B (zero-width space)`. */
function describeCodePoint(character: string): string {
  const codePoint = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  const name = CHARACTER_NAMES[character];
  return name === undefined ? codePoint : `${codePoint} (${name})`;
}
