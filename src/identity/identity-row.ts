import { normalizeEmail, normalizeId, parseTime } from "./event-identity.js";

/** One identity read from a row of an identities file. */
export interface IdentityRow {
  userId: string | undefined;
  anonymousId: string | undefined;
  email: string;
  /** Epoch milliseconds, or +Infinity for a row without a time. */
  time: number;
}

/** Outcome of one row: an identity, a row with ids but no email (not a problem), or a problem. */
export type RowOutcome =
  | { kind: "identity"; identity: IdentityRow }
  | { kind: "no-email" }
  | { kind: "problem"; message: string };

/**
 * Outcome of a row whose bytes are not UTF-8, usually of a file saved as Windows-1252 or Latin-1.
 * Read, its email and ids would have their letters replaced by U+FFFD, and entries would be sent
 * with that email for good, because Koala keeps the first entry of each message_id.
 */
export const NOT_UTF8_ROW: RowOutcome = {
  kind: "problem",
  message: "contains bytes that are not UTF-8 text, so its email and ids would be read with letters replaced by �. Save the file as UTF-8, for example with iconv -f WINDOWS-1252 -t UTF-8",
};

/**
 * A row without a time is taken as the current state, like a warehouse `users` table, so it wins
 * over every timed observation from the archive.
 */
export const ROW_WITHOUT_TIME = Number.POSITIVE_INFINITY;

/** Field names accepted for each value, after {@link normalizeFieldName}; the first present wins. */
const USER_ID_FIELDS = ["userid"];
/** `id` is the userId in a warehouse `users` table but the messageId in other tables, so it counts only without `user_id`. */
const FALLBACK_USER_ID_FIELD = "id";
const ANONYMOUS_ID_FIELDS = ["anonymousid"];
const EMAIL_FIELDS = ["email", "traitsemail", "contexttraitsemail"];
const TIME_FIELDS = ["timestamp", "receivedat", "updatedat"];

/** Lowercases a header or key and drops `_`, `-`, `.` and spaces, so `user_id`, `userId` and `USER_ID` match. */
export function normalizeFieldName(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]/g, "");
}

/** Names the fields of a file that will be read, by normalized name; used to check a CSV header. */
export interface RowFields {
  userId: string | undefined;
  anonymousId: string | undefined;
  email: string | undefined;
  time: string | undefined;
}

/** Chooses which of the available normalized field names hold each value. */
export function chooseFields(available: ReadonlySet<string>): RowFields {
  const pick = (candidates: string[]): string | undefined => candidates.find((name) => available.has(name));
  const userId = pick(USER_ID_FIELDS) ?? (available.has(FALLBACK_USER_ID_FIELD) ? FALLBACK_USER_ID_FIELD : undefined);

  return {
    userId,
    anonymousId: pick(ANONYMOUS_ID_FIELDS),
    email: pick(EMAIL_FIELDS),
    time: pick(TIME_FIELDS),
  };
}

/** Reads one row through `valueOf`, which returns the value of a normalized field name. */
export function readIdentityRow(fields: RowFields, valueOf: (field: string) => unknown): RowOutcome {
  const userId = fields.userId === undefined ? undefined : normalizeId(cleanCell(valueOf(fields.userId)));
  const anonymousId = fields.anonymousId === undefined ? undefined : normalizeId(cleanCell(valueOf(fields.anonymousId)));
  const rawEmail = fields.email === undefined ? undefined : cleanCell(valueOf(fields.email));
  const hasEmail = rawEmail !== undefined && rawEmail !== null && !(typeof rawEmail === "string" && rawEmail.trim() === "");

  if (userId === undefined && anonymousId === undefined) {
    return hasEmail
      ? { kind: "problem", message: "has an email but no userId or anonymousId" }
      : { kind: "no-email" };
  }
  if (!hasEmail) {
    return { kind: "no-email" };
  }

  const email = normalizeEmail(rawEmail);
  if (email === null) {
    return { kind: "problem", message: `has an invalid email ${JSON.stringify(rawEmail)}: expected text with an @` };
  }
  if (/[\s<>]/.test(email)) {
    // Koala would get the text as the person's email, display name and all, for every entry stitched to it.
    const address = /<([^<>\s]+@[^<>\s]+)>/.exec(email)?.[1];
    const example = address === undefined ? "" : `, such as ${address}`;
    return { kind: "problem", message: `has the email ${JSON.stringify(email)}, which contains spaces or angle brackets: give the address alone${example}` };
  }

  const rawTime = fields.time === undefined ? undefined : cleanCell(valueOf(fields.time));
  const time = rawTime === undefined || rawTime === "" || rawTime === null ? ROW_WITHOUT_TIME : parseTime(rawTime);
  if (time === undefined) {
    return { kind: "problem", message: `has an unreadable time ${JSON.stringify(rawTime)}: expected ISO 8601 or epoch seconds or milliseconds` };
  }
  return { kind: "identity", identity: { userId, anonymousId, email, time } };
}

/**
 * Removes the single quotes some warehouse tools put around every cell inside the CSV field
 * (`'abc'`, and `''` for an empty cell). Other values pass unchanged.
 */
function cleanCell(value: unknown): unknown {
  if (typeof value === "string" && value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
    return value.slice(1, -1);
  }
  return value;
}
