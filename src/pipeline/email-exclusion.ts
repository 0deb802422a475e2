import { domainToUnicode } from "node:url";
import type { KoalaEntry } from "../delivery/entry.js";
import { compileGlob } from "../triggers/glob.js";

/** An entry left out because the email it would be sent with matches `pattern`. */
export interface ExcludedEntry {
  entry: KoalaEntry;
  pattern: string;
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
 * `*` matches any run of characters and `?` one character. They are compared case-insensitively,
 * because mail systems treat domains, and in practice local parts, that way.
 */
export class EmailExclusion {
  /** The patterns as written, without repeats. */
  private readonly patterns: readonly string[];
  private readonly tests: ReadonlyArray<{ pattern: string; matches: (email: string) => boolean }>;

  /** Throws on a pattern that `describeEmailPatternProblem` rejects, because callers report those with their position first. */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const problem = describeEmailPatternProblem(pattern);
      if (problem !== undefined) {
        throw new Error(`invalid email pattern ${JSON.stringify(pattern)}: ${problem}`);
      }
    }
    this.patterns = [...new Set(patterns)];
    this.tests = this.patterns.map((pattern) => ({ pattern, matches: compileGlob(withUnicodeDomain(pattern.toLowerCase())) }));
  }

  /**
   * Returns the first pattern that matches `email`, or undefined. Spaces around the email are
   * ignored, because a mapped trait may carry them around an address that is otherwise excluded.
   * A domain in its ASCII form (`xn--mnchen-3ya.de`) matches a pattern that spells it in Unicode
   * (`münchen.de`), and the other way round, because both name the same mailboxes.
   */
  matchingPattern(email: string | undefined): string | undefined {
    if (typeof email !== "string") {
      return undefined;
    }
    const address = withUnicodeDomain(email.trim().toLowerCase());
    return this.tests.find((test) => test.matches(address))?.pattern;
  }

  /** Splits entries into those to send and those whose email is excluded. An entry without an email is sent. */
  split(entries: readonly KoalaEntry[]): ExclusionSplit {
    let sendable: KoalaEntry[] | undefined;
    let excluded: ExcludedEntry[] | undefined;
    entries.forEach((entry, index) => {
      const pattern = this.matchingPattern(entry.person.email);
      if (pattern === undefined) {
        sendable?.push(entry);
        return;
      }
      // Most records have nothing excluded, so the lists are copied only from the first exclusion on.
      sendable ??= entries.slice(0, index);
      excluded ??= [];
      excluded.push({ entry, pattern });
    });
    return { sendable: sendable ?? entries, excluded: excluded ?? NOTHING_EXCLUDED };
  }

  /**
   * Returns the patterns in lower case, sorted and without repeats, for the checkpoint's hash of the
   * entry settings. Order, repeats and case do not change which entries are excluded, so a resume
   * with the same patterns written otherwise is not warned that they changed.
   */
  canonicalPatterns(): string[] {
    return [...new Set(this.patterns.map((pattern) => pattern.toLowerCase()))].sort();
  }
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
  // Format characters such as a zero-width space or a soft hyphen are invisible, and can come with text
  // pasted from web pages and chats.
  const hidden = /[\s\p{Cc}\p{Cf}]/u.exec(pattern);
  if (hidden !== null) {
    const code = `U+${(hidden[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
    return `it contains whitespace or an invisible character (${code} at character ${hidden.index + 1}), which no email address has. Remove it`;
  }
  const special = /[[\]\\]/.exec(pattern);
  if (special !== null) {
    return `it contains "${special[0]}", but email patterns take only the wildcards * (any characters) and ? (one character)`;
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
 * Writes the labels of the domain that are in the ASCII form of international domain names
 * (`xn--…`) in Unicode, so that an address and a pattern compare alike whichever form each uses.
 * Labels with a wildcard, and labels that are not valid in that form, are kept as written.
 */
function withUnicodeDomain(address: string): string {
  const atIndex = address.lastIndexOf("@");
  if (!address.includes("xn--", atIndex)) {
    return address;
  }
  const labels = address.slice(atIndex + 1).split(".");
  const decoded = labels.map((label) => (label.startsWith("xn--") && !/[*?]/.test(label) ? domainToUnicode(label) || label : label));
  return `${address.slice(0, atIndex + 1)}${decoded.join(".")}`;
}

/**
 * Suggests the pattern of every address at the domain that a pattern without "@" names. A pattern
 * that names no domain, such as `*`, gets an example, because `*@` alone is rejected too.
 */
function domainPatternFor(pattern: string): string {
  const domain = pattern.replace(/^\*\.?/, "");
  return /[^*?.]/.test(domain) ? `*@${domain}` : "* followed by @ and the domain, such as *@yourcompany.com";
}
