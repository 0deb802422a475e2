import { createHash } from "node:crypto";

/**
 * Matches an email address in free text: a local part of the characters RFC 5322 allows unquoted,
 * `@`, and a domain of at least two labels. Quoted local parts and IP-address domains are not matched.
 */
const EMAIL_IN_TEXT = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;

/**
 * Returns a short stable stand-in for an email, `email#` and the first 8 hex digits of the SHA-256
 * of the email as written, so that log lines of one person can be matched without showing who it is.
 * `printf '%s' ada@example.com | sha256sum | cut -c1-8` gives the same digits. It is a hash, not
 * encryption: someone with a list of emails can find which one it stands for.
 */
export function pseudonymizeEmail(email: string): string {
  return `email#${createHash("sha256").update(email, "utf8").digest("hex").slice(0, 8)}`;
}

/** Replaces every email address in `text` with its `pseudonymizeEmail` stand-in. */
export function hideEmails(text: string): string {
  return text.includes("@") ? text.replace(EMAIL_IN_TEXT, (email) => pseudonymizeEmail(email)) : text;
}
