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
 * Replaces every occurrence of `key` in `text` with its mask, so URLs, error messages and response
 * excerpts can be shown or stored. A server or a proxy may echo the key in another form than it
 * was sent in. So each character of it is matched as it is, percent-encoded with hex digits of
 * either case, as a JSON escape (`\/`, `\"`, `\u002f`), or as `+` for a space. An empty key
 * changes nothing.
 */
export function maskSecret(text: string, key: string | undefined): string {
  if (key === undefined || key.length === 0) {
    return text;
  }
  const masked = maskPublicKey(key);
  return text.replace(keyPattern(key), () => masked);
}

/**
 * Serializes `value` as JSON, with 2 spaces of indentation, and `key` masked in its strings. The
 * property names of a report are words such as `invalid` or `events`, which a short test key may
 * equal, so they are masked only for a key of real length, which no such word is.
 */
export function stringifyWithSecretMasked(value: unknown, key: string | undefined): string {
  if (key === undefined || key.length === 0) {
    return JSON.stringify(value, null, 2);
  }
  const masksNames = !isShortPublicKey(key);
  return JSON.stringify(
    value,
    (_name, member: unknown) => {
      if (typeof member === "string") {
        return maskSecret(member, key);
      }
      if (masksNames && typeof member === "object" && member !== null && !Array.isArray(member)) {
        return Object.fromEntries(Object.entries(member).map(([name, child]) => [maskSecret(name, key), child]));
      }
      return member;
    },
    2,
  );
}

/** Patterns by key: a run masks every message with the same key. */
const keyPatterns = new Map<string, RegExp>();

/**
 * Lookbehind of a short key of letters only: the start of the text, or a `/`, `=`, `:`, `"` or `'`,
 * plain or percent-encoded. These end a URL path segment, a query parameter's name, a JSON property
 * or an opening quote.
 */
const WORD_KEY_BEFORE = `(?<=^|[/=:"']|%2[fF]|%3[dDaA]|%2[27])`;

/** Negative lookahead of a short key of letters only: a character that URLs leave unencoded in a path segment. */
const WORD_KEY_NOT_AFTER = "(?![A-Za-z0-9_.~-])";

/**
 * Returns a pattern that matches `key` in any of the forms `maskSecret` names. A key of real length
 * matches wherever it occurs. A shorter key (a test key such as `pk_test`) matches only where no
 * letter, digit, `_` or `-` touches it, so that it does not mask the words it occurs in (`maxRps`).
 * A short key of letters only, such as `a` or `events`, may also be a word of a sentence or a file
 * name (`20 events read`, `events.jsonl`), so it matches only as a whole URL path segment, query
 * value or quoted string. NOTE: such a key quoted by a server in plain words, as in `unknown key
 * events`, stays unmasked.
 */
function keyPattern(key: string): RegExp {
  let pattern = keyPatterns.get(key);
  if (pattern === undefined) {
    const characters = [...key].map((character) => `(?:${characterForms(character).join("|")})`).join("");
    let source = characters;
    if (isShortPublicKey(key) && /^[A-Za-z]+$/.test(key)) {
      source = `${WORD_KEY_BEFORE}${characters}${WORD_KEY_NOT_AFTER}`;
    } else if (isShortPublicKey(key)) {
      source = `(?<![A-Za-z0-9_-])${characters}(?![A-Za-z0-9_-])`;
    }
    pattern = new RegExp(source, "g");
    keyPatterns.set(key, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}

/** Returns the regular expressions of the forms one character of a key can be echoed in. */
function characterForms(character: string): string[] {
  const forms = [escapeRegExp(character)];
  const percentEncoded = [...Buffer.from(character, "utf8")].map((byte) => `%${hexDigitsOfEitherCase(byte)}`).join("");
  forms.push(percentEncoded);
  let unicodeEscapes = "";
  for (let index = 0; index < character.length; index += 1) {
    const unit = character.charCodeAt(index);
    unicodeEscapes += `\\\\u${hexDigitsOfEitherCase(unit >> 8)}${hexDigitsOfEitherCase(unit & 0xff)}`;
  }
  forms.push(unicodeEscapes);
  if (character === "/" || character === '"' || character === "\\") {
    forms.push(`\\\\${escapeRegExp(character)}`);
  }
  if (character === " ") {
    forms.push("\\+");
  }
  return forms;
}

/** Returns a pattern of the two hex digits of `byte` that matches either case, such as `2[fF]`. */
function hexDigitsOfEitherCase(byte: number): string {
  return [...byte.toString(16).padStart(2, "0")].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)).join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
