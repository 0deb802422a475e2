import { domainToUnicode } from "node:url";

/**
 * Email patterns and addresses, brought to one form before they are compared. Both sides get
 * Unicode NFKC normalization and case folding, so that full-width letters (`ａ`), ligatures and
 * decomposed accents (NFD) compare equal to their plain forms. The domain loses its trailing dots and
 * its `xn--` labels are written in Unicode. Patterns are globs: `*` matches any run of characters,
 * `?` one character, and `\*`, `\?` and `\\` stand for a literal `*`, `?` and `\`.
 *
 * `?` matches one code point of the normalized, case-folded text together with the combining marks
 * (Unicode category M) that follow it. So `İ` (U+0130), which case folding turns into `i` and
 * U+0307, is one character, as it looks.
 */

/** Whitespace, control and invisible code points, which no email address has. */
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** Characters that a compatibility form must not become under NFKC: pattern syntax, whitespace and invisible code points. */
const SYNTAX_OR_INVISIBLE = /[@*?\\[\]\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** Emails are mostly ASCII, which NFKC leaves as it is and which `toLowerCase` folds fully. */
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Classifies a code point that a pattern may not contain, or returns undefined for one it may. */
export function describeForbiddenCodePoint(character: string): "invisible" | "compatibility-form" | undefined {
  if (INVISIBLE.test(character)) {
    return "invisible";
  }
  const normalized = character.normalize("NFKC");
  return normalized !== character && SYNTAX_OR_INVISIBLE.test(normalized) ? "compatibility-form" : undefined;
}

/**
 * Lists every code point that `describeForbiddenCodePoint` rejects, as ranges of the Unicode data
 * of the running Node.js, for the JSON Schema of the config. It tests all 1.1 million code points,
 * so it runs only when the schema is built.
 */
export function listForbiddenCodePointRanges(): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      continue;
    }
    if (describeForbiddenCodePoint(String.fromCodePoint(codePoint)) === undefined) {
      continue;
    }
    const last = ranges.at(-1);
    if (last !== undefined && last[1] === codePoint - 1) {
      last[1] = codePoint;
    } else {
      ranges.push([codePoint, codePoint]);
    }
  }
  return ranges;
}

/**
 * Folds case for comparison. JavaScript has no full case folding, so upper case followed by lower
 * case approximates it: `ß` and `SS` both become `ss`. Final sigma `ς` becomes `σ`. It also
 * makes dotless `ı` equal to `i`, which full case folding does not, so it may match more, never less.
 */
function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase().replaceAll("ς", "σ");
}

/** Applies NFKC and case folding, then NFKC again, because folding can leave text that is not normalized. */
export function normalizeText(text: string): string {
  if (ASCII_ONLY.test(text)) {
    return text.toLowerCase();
  }
  return foldCase(text.normalize("NFKC")).normalize("NFKC");
}

/**
 * Returns the forms of the addresses in an email value that patterns are compared with. A value
 * may hold a list, such as `a@x.com, Jane <jane@corp.com>` or `a@x.com; b@y.com`, split at each
 * `,` and `;` outside quotes and angle brackets. Comments in parentheses, such as the `(Jane)` of
 * `jane@corp.com (Jane)`, are removed. Each address is then read as `addressForMatching` reads it.
 * Returns an empty list when no address is left.
 */
export function addressesForMatching(email: string): string[] {
  const addresses: string[] = [];
  for (const item of splitAddressList(email)) {
    const address = addressForMatching(item);
    if (address !== undefined) {
      addresses.push(address);
    }
  }
  return addresses;
}

/**
 * Returns the form of one address that patterns are compared with. It is the address inside
 * `Name <address>`, without a `mailto:` prefix and its `?query` but with its `%XX` escapes decoded.
 * It loses the quotes of a quoted local part (`"jane"@corp.com` is `jane@corp.com`), whitespace at
 * both ends, and controls and invisible code points anywhere. It is then normalized, gets the
 * domain in Unicode with `.` between labels and loses the trailing dots of the domain. Returns
 * undefined when nothing is left.
 */
export function addressForMatching(email: string): string | undefined {
  let address = withoutSurroundingInvisibles(email);
  const bracketed = /<([^<>]*)>[^<>]*$/.exec(address);
  if (bracketed !== null) {
    address = withoutSurroundingInvisibles(bracketed[1] as string);
  }
  if (/^mailto:/i.test(address)) {
    address = decodePercentEscapes(address.slice("mailto:".length).split("?", 1)[0] as string);
  }
  // No address has these, and a control character in the middle would otherwise keep an address
  // such as `jane\u0000@corp.com` apart from its pattern. NFKC with case folding (NFKC_Casefold)
  // removes the default-ignorable code points too.
  address = address.replace(INVISIBLES, "");
  address = withoutLocalPartQuotes(address);
  address = inComparedForm(address);
  return address === "" ? undefined : address;
}

const INVISIBLES = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * Splits an email value at the `,` and `;` that separate addresses (mail headers use `,`, and
 * clients such as Outlook `;`), and removes comments in parentheses. Separators
 * and parentheses inside a quoted string (`"Smith, Jane" <jane@corp.com>`) or inside angle brackets
 * are kept.
 */
function splitAddressList(email: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  let bracketed = false;
  let commentDepth = 0;
  for (let index = 0; index < email.length; index++) {
    const character = email[index] as string;
    if (commentDepth > 0) {
      if (character === "\\") {
        index++;
      } else if (character === "(") {
        commentDepth++;
      } else if (character === ")") {
        commentDepth--;
      }
      continue;
    }
    if (quoted) {
      current += character;
      if (character === "\\" && index + 1 < email.length) {
        index++;
        current += email[index] as string;
      } else if (character === '"') {
        quoted = false;
      }
      continue;
    }
    if (character === '"') {
      quoted = true;
    } else if (character === "(") {
      commentDepth = 1;
      continue;
    } else if (character === "<") {
      bracketed = true;
    } else if (character === ">") {
      bracketed = false;
    } else if ((character === "," || character === ";") && !bracketed) {
      items.push(current);
      current = "";
      continue;
    }
    current += character;
  }
  items.push(current);
  return items;
}

/**
 * Removes the quotes of a quoted local part and the backslashes of its quoted pairs, because
 * `"jane"@corp.com` and `jane@corp.com` name the same mailbox.
 */
function withoutLocalPartQuotes(address: string): string {
  const quotedLocalPart = /^"((?:[^"\\]|\\.)*)"@/s.exec(address);
  if (quotedLocalPart === null) {
    return address;
  }
  const local = (quotedLocalPart[1] as string).replace(/\\(.)/gs, "$1");
  return `${local}${address.slice(quotedLocalPart[0].length - 1)}`;
}

/**
 * Removes whitespace and invisible code points at both ends, including those that `String.trim`
 * keeps: controls such as NUL and U+0085, and format characters such as a zero-width space.
 */
function withoutSurroundingInvisibles(text: string): string {
  return text.replace(SURROUNDING_INVISIBLES, "");
}

const SURROUNDING_INVISIBLES = /^[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]+|[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]+$/gu;

/** Decodes the `%XX` escapes of a `mailto:` address (RFC 6068), or keeps the text when they are not valid UTF-8. */
function decodePercentEscapes(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Returns the form of a valid pattern that is compiled and hashed: normalized like an address, with
 * no trailing dots on the domain and its `xn--` labels in Unicode. Two patterns with the same form
 * exclude the same addresses.
 */
export function canonicalPattern(pattern: string): string {
  return inComparedForm(pattern);
}

/**
 * Normalizes `text`, writes the domain's ideographic full stops as dots and its `xn--` labels in
 * Unicode, normalized again because IDNA keeps `ß`, and drops the trailing dots.
 */
function inComparedForm(text: string): string {
  const normalized = normalizeText(text);
  const decoded = withUnicodeDomain(normalized);
  return withoutTrailingDots(decoded === normalized ? normalized : normalizeText(decoded));
}

/**
 * A canonical pattern by how it is looked up: an exact address (no wildcard), every address at a
 * domain (`*@domain` with no other wildcard), or any other glob, which is tested address by address.
 */
export type EmailPatternShape = { kind: "exact"; address: string } | { kind: "domain"; domain: string } | { kind: "glob"; matches: (address: string) => boolean };

/** Sorts a canonical pattern into an {@link EmailPatternShape}, with wildcards and escapes resolved. */
export function classifyEmailPattern(canonical: string): EmailPatternShape {
  const tokens = tokenize(canonical);
  if (tokens.every((token) => token.kind === "literal")) {
    return { kind: "exact", address: tokens.map((token) => token.text).join("") };
  }
  const [first, second, ...rest] = tokens;
  if (first?.kind === "any" && second?.kind === "literal" && second.text === "@" && rest.every((token) => token.kind === "literal")) {
    return { kind: "domain", domain: rest.map((token) => token.text).join("") };
  }
  return { kind: "glob", matches: compileEmailPattern(canonical) };
}

/** Returns the domain of an address from `addressForMatching`: the text after its last `@`, or undefined without one. */
export function domainOf(address: string): string | undefined {
  const atIndex = address.lastIndexOf("@");
  return atIndex === -1 ? undefined : address.slice(atIndex + 1);
}

/** Compiles a canonical pattern into a test of addresses from `addressForMatching`. */
export function compileEmailPattern(canonical: string): (address: string) => boolean {
  const tokens = tokenize(canonical);
  const literals = tokens.every((token) => token.kind === "literal");
  if (literals) {
    const text = tokens.map((token) => token.text).join("");
    return (address) => address === text;
  }
  // `*@domain`, the common pattern, needs no automaton.
  const [first, ...rest] = tokens;
  if (first?.kind === "any" && rest.every((token) => token.kind === "literal")) {
    const suffix = rest.map((token) => token.text).join("");
    return (address) => address.endsWith(suffix);
  }
  return (address) => matchesTokens(tokens, address);
}

const COMBINING_MARK = /^\p{M}$/u;

/** `matchesTokens` state bits: the tokens before this index have matched the text read so far. */
const REACHED = 1;
/** The token before this index is a `?`, which may still take the combining marks that come next. */
const TAKES_MARKS = 2;

/**
 * Tests a whole address against pattern tokens by simulating all ways of matching at once, one code
 * point at a time. A backtracking RegExp such as `^.*a.*a.*a.*b$` takes time exponential in the
 * number of `*`, which let one pattern like `*a*a*a*a*b@*` stall a run for seconds per email. This
 * takes time proportional to the address length times the pattern length.
 */
function matchesTokens(tokens: readonly PatternToken[], address: string): boolean {
  let states = new Uint8Array(tokens.length + 1);
  let nextStates = new Uint8Array(tokens.length + 1);
  states[0] = REACHED;
  skipEmptyStars(tokens, states);
  for (const character of address) {
    nextStates.fill(0);
    const isMark = COMBINING_MARK.test(character);
    let anyReached = false;
    for (let index = 0; index < states.length; index++) {
      const state = states[index] as number;
      if (state === 0) {
        continue;
      }
      if ((state & TAKES_MARKS) !== 0 && isMark) {
        nextStates[index] = (nextStates[index] as number) | REACHED | TAKES_MARKS;
      }
      const token = tokens[index];
      if (token === undefined) {
        continue;
      }
      if (token.kind === "any") {
        nextStates[index] = (nextStates[index] as number) | REACHED;
      } else if (token.kind === "one" ? !isMark : token.text === character) {
        nextStates[index + 1] = (nextStates[index + 1] as number) | REACHED | (token.kind === "one" ? TAKES_MARKS : 0);
      }
    }
    skipEmptyStars(tokens, nextStates);
    [states, nextStates] = [nextStates, states];
    for (const state of states) {
      anyReached ||= state !== 0;
    }
    if (!anyReached) {
      return false;
    }
  }
  return states[tokens.length] !== 0;
}

/** Marks the index after each reached `*` as reached too, because `*` may match no characters. */
function skipEmptyStars(tokens: readonly PatternToken[], states: Uint8Array): void {
  for (let index = 0; index < tokens.length; index++) {
    if (states[index] !== 0 && tokens[index]?.kind === "any") {
      states[index + 1] = (states[index + 1] as number) | REACHED;
    }
  }
}

type PatternToken = { kind: "literal"; text: string } | { kind: "any"; text: "*" } | { kind: "one"; text: "?" };

/**
 * Splits a pattern into wildcards and literal code points, with escapes resolved. The pattern must
 * be valid.
 */
function tokenize(pattern: string): PatternToken[] {
  const tokens: PatternToken[] = [];
  const characters = Array.from(pattern);
  for (let index = 0; index < characters.length; index++) {
    const character = characters[index] as string;
    if (character === "\\") {
      index++;
      tokens.push({ kind: "literal", text: characters[index] ?? "" });
    } else if (character === "*") {
      tokens.push({ kind: "any", text: "*" });
    } else if (character === "?") {
      tokens.push({ kind: "one", text: "?" });
    } else {
      tokens.push({ kind: "literal", text: character });
    }
  }
  return tokens;
}

/**
 * Describes the first misplaced `\` of a pattern, or returns undefined. A `\` escapes only `*`, `?`
 * and `\`, so that the other characters of a pattern keep one spelling.
 */
export function describeEscapeProblem(pattern: string): string | undefined {
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] !== "\\") {
      continue;
    }
    const next = pattern[index + 1];
    if (next === undefined) {
      return `it ends with a lone "\\" (character ${index + 1}). Write \\\\ for a literal backslash, or remove it`;
    }
    if (next !== "*" && next !== "?" && next !== "\\") {
      return `it contains "\\${next}" (character ${index + 1}), but "\\" escapes only *, ? and \\ (as \\*, \\? and \\\\). Write ${next} without the backslash, or \\\\ for a literal backslash`;
    }
    index++;
  }
  return undefined;
}

/** Removes every trailing dot, because `corp.com.` is the fully qualified form of `corp.com` and `corp.com..` a typo of it. */
function withoutTrailingDots(address: string): string {
  return address.replace(/\.+$/, "");
}

/**
 * Writes the labels of the domain that are in the ASCII form of international domain names
 * (`xn--…`) in Unicode, so that an address and a pattern compare alike whichever form each uses.
 * Labels with a wildcard or an escape, and labels that are not valid in that form, are kept as written.
 */
function withUnicodeDomain(address: string): string {
  const atIndex = address.lastIndexOf("@");
  // IDNA (RFC 3490, section 3.1, and UTS #46) reads the ideographic full stops U+3002 and U+FF61 as
  // dots between labels. NFKC has already turned the full-width U+FF0E into ".".
  const domain = address.slice(atIndex + 1).replace(/[\u3002\uff61]/g, ".");
  if (!domain.includes("xn--")) {
    return `${address.slice(0, atIndex + 1)}${domain}`;
  }
  const labels = domain.split(".");
  const decoded = labels.map((label) => (label.startsWith("xn--") && !/[*?\\]/.test(label) ? domainToUnicode(label) || label : label));
  return `${address.slice(0, atIndex + 1)}${decoded.join(".")}`;
}
