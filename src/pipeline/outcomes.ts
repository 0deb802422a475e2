/** Reason an event, or one mapping's entry for it, was not sent although nothing was wrong with it. */
export type SkipReason =
  | "filtered-out"
  | "no-mapping-matched"
  | "browser-event"
  | "no-identity"
  | "excluded-email"
  | "duplicate-message-id"
  | "already-delivered"
  | "skipped-earlier"
  | "done-earlier"
  | "unreadable-earlier";

export const skipReasonText: Readonly<Record<SkipReason, string>> = {
  "filtered-out": "excluded by --filter, --since or --until",
  "no-mapping-matched": "no mapping's trigger matched",
  "browser-event": "analytics.js track event, skipped by the --browser-events policy",
  "no-identity": "no email or profile_id (Koala cannot attach it to a person)",
  "excluded-email": "the person's email matches a pattern of --exclude-emails or excludeEmails in the config",
  "duplicate-message-id": "duplicate messageId, already sent in this run",
  "already-delivered": "delivered or dead-lettered by an earlier run, so --resume skipped it",
  "skipped-earlier": "skipped or found invalid by an earlier run, so --resume did not read it again (the earlier run's summary gives the reasons)",
  "done-earlier": "done by an earlier run (delivered, dead-lettered, skipped or found invalid), so --resume skipped it",
  "unreadable-earlier": "a line or row that an earlier run reported as unreadable, so --resume did not count it again (the earlier run's summary gives the reasons)",
};

/** One mapping's verdict on one event that its trigger matched. */
export type MappingVerdict =
  | { kind: "skipped"; mapping: string; reason: SkipReason }
  | { kind: "invalid"; mapping: string; reason: string };
