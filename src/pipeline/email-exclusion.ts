import type { KoalaEntry } from "../delivery/entry.js";
import { addressesForMatching, canonicalPattern, describeEscapeProblem, describeForbiddenCodePoint } from "./email-pattern.js";
import { EmailPatternIndex } from "./email-pattern-index.js";

/** An entry left out because an email it would be sent with matches `pattern`. */
export interface ExcludedEntry {
  entry: KoalaEntry;
  pattern: string;
  /**
   * The email that matched: the request's `email` or the `email` of its `traits`, or a text in an
   * array or object there, or the email that identity stitching links the event's ids to.
   */
  email: string;
  /** The request field that contains that email, or `identity` for the email the event's ids are linked to. */
  field: "email" | "traits.email" | "identity";
}

/** Entries of one record, split by the email exclusions. */
export interface ExclusionSplit {
  sendable: readonly KoalaEntry[];
  excluded: readonly ExcludedEntry[];
}

const NOTHING_EXCLUDED: readonly ExcludedEntry[] = Object.freeze([]);

/**
 * Leaves out the entries of people whose email matches one of the patterns of `--exclude-emails` and
 * `excludeEmails` in the config, such as a company's own staff. It runs after identity stitching,
 * so it also checks the emails that stitching gave. Patterns are globs on the whole address, where
 * `*` matches any run of characters and `?` one character. Patterns and emails are compared in the
 * form that email-pattern.ts describes: NFKC-normalized and case-folded, because mail systems treat
 * domains, and in practice local parts, without regard to case.
 */
export class EmailExclusion {
  /** The patterns as written, without repeats. */
  private readonly patterns: readonly string[];
  private readonly index: EmailPatternIndex;

  /** Throws on a pattern that `describeEmailPatternProblem` rejects, because callers report those with their position first. */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const problem = describeEmailPatternProblem(pattern);
      if (problem !== undefined) {
        throw new Error(`invalid email pattern ${JSON.stringify(pattern)}: ${problem}`);
      }
    }
    this.patterns = [...new Set(patterns)];
    this.index = new EmailPatternIndex(this.patterns);
  }

  /**
   * Returns the first pattern that matches `email`, or undefined. The email is compared as
   * `addressesForMatching` reads it. Each address of a list (`a@x.com, Jane <jane@corp.com>`) is
   * compared, so one match excludes the entry. An address is taken from `Name <address>`, without
   * comments, `mailto:`, quotes around the local part, surrounding whitespace, controls or trailing
   * dots, and its domain in ASCII form (`xn--mnchen-3ya.de`) equals its Unicode form (`münchen.de`).
   * The entry keeps its email as it was.
   */
  matchingPattern(email: string | undefined): string | undefined {
    if (typeof email !== "string") {
      return undefined;
    }
    const addresses = addressesForMatching(email);
    if (addresses.length === 0) {
      return undefined;
    }
    const position = this.index.firstMatch(addresses);
    return position === undefined ? undefined : this.index.patternAt(position);
  }

  /**
   * Finds the pattern that the request's `email` matches, else the one that `traits.email` matches.
   * Both are checked because a track event takes its `email` from the payload or `properties` before
   * `context.traits`: a staff member who types a customer's address into a form is sent as that
   * customer, with the staff member's own email in `traits`.
   */
  private matchPerson(person: KoalaEntry["person"]): Omit<ExcludedEntry, "entry"> | undefined {
    const emailMatch = this.matchEmailValue(person.email);
    if (emailMatch !== undefined) {
      return { ...emailMatch, field: "email" };
    }
    const traitEmail = person.traits["email"];
    if (traitEmail === person.email) {
      return undefined;
    }
    const traitMatch = this.matchEmailValue(traitEmail);
    return traitMatch === undefined ? undefined : { ...traitMatch, field: "traits.email" };
  }

  /**
   * Matches an email field whatever its JSON type. The field is sent as the event had it, so an
   * array such as `properties.email: ["anna@yourcompany.com"]` would reach Koala with the staff
   * address in it. Each text in it, at any depth of arrays and objects, is compared.
   */
  private matchEmailValue(value: unknown): { pattern: string; email: string } | undefined {
    for (const email of textsIn(value)) {
      const pattern = this.matchingPattern(email);
      if (pattern !== undefined) {
        return { pattern, email };
      }
    }
    return undefined;
  }

  /**
   * Splits entries into those to send and those with an excluded email. An entry without an email is
   * sent. `identifiedEmail` is the email that stitching links the event's userId or anonymousId to:
   * when it matches, every entry of the event is left out, because the excluded person did the
   * event, whatever email its entries carry.
   */
  split(entries: readonly KoalaEntry[], identifiedEmail?: string): ExclusionSplit {
    // The request's own emails explain an exclusion best, so the linked email is matched only when they do not match.
    const byIdentity = entries.length === 0 ? undefined : this.matchEmailValue(identifiedEmail);
    let sendable: KoalaEntry[] | undefined;
    let excluded: ExcludedEntry[] | undefined;
    entries.forEach((entry, index) => {
      const match = this.matchPerson(entry.person) ?? (byIdentity === undefined ? undefined : { ...byIdentity, field: "identity" as const });
      if (match === undefined) {
        sendable?.push(entry);
        return;
      }
      // Most records have nothing excluded, so the lists are copied only from the first exclusion on.
      sendable ??= entries.slice(0, index);
      excluded ??= [];
      excluded.push({ entry, ...match });
    });
    return { sendable: sendable ?? entries, excluded: excluded ?? NOTHING_EXCLUDED };
  }

  /**
   * Returns the patterns in their canonical form (see `canonicalPattern`), sorted and without
   * repeats, for the checkpoint's hash of the entry settings. Order, repeats, case, Unicode
   * normalization and the spelling of a domain (`xn--` or Unicode) do not change which entries are
   * excluded, so a resume with the same patterns written otherwise is not warned that they changed.
   * A plain ASCII pattern keeps its lower-case form, as in checkpoints written before.
   */
  canonicalPatterns(): string[] {
    return [...new Set(this.patterns.map(canonicalPattern))].sort();
  }
}

/** Lists the strings in a JSON value: the value itself, or those inside its arrays and objects. */
function textsIn(value: unknown): string[] {
  if (typeof value === "string") {
    return [value];
  }
  if (typeof value !== "object" || value === null) {
    return [];
  }
  const texts: string[] = [];
  const pending: object[] = [value];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const item of Object.values(next)) {
      if (typeof item === "string") {
        texts.push(item);
      } else if (typeof item === "object" && item !== null) {
        pending.push(item as object);
      }
    }
  }
  return texts;
}

/** Source of an email pattern: `excludeEmails` of the config file, or `--exclude-emails`. */
export type EmailPatternSource = "excludeEmails" | "--exclude-emails";

/** An email pattern as written, and where it was given. */
export interface SourcedEmailPattern {
  pattern: string;
  source: EmailPatternSource;
}

/** Lists the patterns in effect, those of the config first, each with where it was given. A pattern given in both places is listed twice. */
export function listEmailPatterns(configPatterns: readonly string[], optionPatterns: readonly string[]): SourcedEmailPattern[] {
  return [
    ...configPatterns.map((pattern): SourcedEmailPattern => ({ pattern, source: "excludeEmails" })),
    ...optionPatterns.map((pattern): SourcedEmailPattern => ({ pattern, source: "--exclude-emails" })),
  ];
}

/** Builds the exclusion of `patterns`, or returns undefined for an empty list, so that a run without one checks nothing. */
export function createEmailExclusion(patterns: readonly string[]): EmailExclusion | undefined {
  return patterns.length === 0 ? undefined : new EmailExclusion(patterns);
}

/**
 * Describes why a pattern cannot match the addresses it was meant for, or returns undefined for a
 * valid one. A pattern that silently matches nothing would send the very events it was written to
 * leave out, so every such mistake is rejected at start-up.
 */
export function describeEmailPatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === "") {
    return "the pattern is empty. Write one such as *@yourcompany.com, or remove it";
  }
  const codePointProblem = describeCodePointProblem(pattern);
  if (codePointProblem !== undefined) {
    return codePointProblem;
  }
  const special = /[[\]]/.exec(pattern);
  if (special !== null) {
    return `it contains "${special[0]}", but email patterns take only the wildcards * (any characters) and ? (one character), and \\ to escape them`;
  }
  const escapeProblem = describeEscapeProblem(pattern);
  if (escapeProblem !== undefined) {
    return escapeProblem;
  }
  const parts = pattern.split("@");
  if (parts.length === 1) {
    return `it has no "@", so it matches no email address. To leave out every address at a domain, write ${domainPatternFor(pattern)}`;
  }
  if (parts.length > 2) {
    return `it contains more than one "@", and an email address has one`;
  }
  const [local, domain] = parts as [string, string];
  if (local === "") {
    return `it has nothing before "@", so it matches no email address. To leave out every address at ${domain}, write *${pattern}`;
  }
  if (domain === "") {
    return `it has nothing after "@", so it matches no email address. Add the domain, or * for any domain: ${pattern}*`;
  }
  return undefined;
}

/**
 * Describes the first code point of a pattern that no email address has, or that NFKC would turn
 * into pattern syntax (a full-width ＠ or ＊), or returns undefined.
 */
function describeCodePointProblem(pattern: string): string | undefined {
  let index = 0;
  for (const character of pattern) {
    const problem = describeForbiddenCodePoint(character);
    const code = `U+${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
    // Format characters such as a zero-width space or a soft hyphen are invisible, and can come with text
    // pasted from web pages and chats.
    if (problem === "invisible") {
      return `it contains whitespace or an invisible character (${code} at character ${index + 1}), which no email address has. Remove it`;
    }
    if (problem === "compatibility-form") {
      const plain = character.normalize("NFKC");
      const where = `${JSON.stringify(character)} (${code} at character ${index + 1})`;
      return /^[@*?\\[\]]$/.test(plain)
        ? `it contains ${where}, a compatibility form of "${plain}", which patterns do not take in place of it. Write "${plain}" instead`
        : `it contains ${where}, which Unicode normalization (NFKC) turns into whitespace or an invisible character. Remove it`;
    }
    index += character.length;
  }
  return undefined;
}

/**
 * Suggests the pattern of every address at the domain that a pattern without "@" names. A pattern
 * that names no domain, such as `*`, gets an example, because `*@` alone is rejected too.
 */
function domainPatternFor(pattern: string): string {
  const domain = pattern.replace(/^\*\.?/, "");
  return /[^*?.]/.test(domain) ? `*@${domain}` : "* followed by @ and the domain, such as *@yourcompany.com";
}
