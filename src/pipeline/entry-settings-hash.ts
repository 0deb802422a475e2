import { createHash } from "node:crypto";
import { fingerprintFile } from "../delivery/fingerprint.js";
import type { EmailExclusion } from "./email-exclusion.js";
import type { ReplaySettings } from "./run-replay.js";

/**
 * The groups of settings that decide which entries an event makes and sends, by the name the
 * checkpoint keeps each group's hash under, with how a warning names the group.
 */
export const ENTRY_SETTING_GROUPS = {
  format: "--format and the CSV options",
  mappings: "mappings",
  filters: "--filter, --since and --until",
  browserEvents: "--browser-events",
  stitching: "stitching (--no-stitch and --identities)",
  excludeEmails: "email exclusions (excludeEmails and --exclude-emails)",
} as const;

/** The hashes of a run's entry settings, as the checkpoint keeps them. */
export interface EntrySettingsHashes {
  /** One hash of every group, as checkpoints of earlier versions kept it alone. */
  combined: string;
  /** A hash per group of `ENTRY_SETTING_GROUPS`, to name the groups that changed. */
  groups: Record<keyof typeof ENTRY_SETTING_GROUPS, string>;
}

/**
 * Hashes the settings that decide which entries an event makes and sends: how inputs are read, the
 * mappings, the filters, --browser-events, stitching with its --identities file, and the email
 * exclusions. When a hash differs from the checkpoint's, a resume warns that the events the
 * earlier run finished are not mapped again, and names the groups that changed.
 */
export function hashEntrySettings(settings: ReplaySettings, exclusion: EmailExclusion | undefined): EntrySettingsHashes {
  const identities = settings.stitch && settings.identitiesFile !== undefined ? identitiesFileContent(settings.identitiesFile) : undefined;
  const excludeEmails = exclusion === undefined ? undefined : { excludeEmails: exclusion.canonicalPatterns() };
  const groups = {
    format: hashJson([settings.format, settings.csv]),
    mappings: hashJson(settings.mappings),
    filters: hashJson(settings.filters),
    browserEvents: hashJson(settings.browserEvents),
    stitching: hashJson([settings.stitch, identities]),
    excludeEmails: hashJson(excludeEmails),
  };
  // Hashed as earlier versions did, so that a checkpoint that kept only this hash is compared right.
  const decisive: unknown[] = [settings.format, settings.csv, settings.mappings, settings.filters, settings.browserEvents, settings.stitch];
  if (identities !== undefined) {
    decisive.push(identities);
  }
  if (excludeEmails !== undefined) {
    decisive.push(excludeEmails);
  }
  return { combined: hashJson(decisive), groups };
}

/** Names the groups of entry settings for a warning, in the order of `ENTRY_SETTING_GROUPS`, and keeps unknown names as they are. */
export function describeEntrySettingGroups(names: readonly string[]): string[] {
  const known = Object.keys(ENTRY_SETTING_GROUPS).filter((name) => names.includes(name));
  const unknown = names.filter((name) => !(name in ENTRY_SETTING_GROUPS));
  return [...known.map((name) => ENTRY_SETTING_GROUPS[name as keyof typeof ENTRY_SETTING_GROUPS]), ...unknown];
}

function hashJson(value: unknown): string {
  // JSON.stringify(undefined) is undefined, which hash.update rejects.
  return createHash("sha256")
    .update(JSON.stringify(value) ?? "null")
    .digest("hex")
    .slice(0, 16);
}

/**
 * Identifies the content of an --identities file, wherever it lies, because the emails it gives
 * decide which events have a person. A pipe cannot be read twice, so only its kind is known.
 */
function identitiesFileContent(path: string): unknown {
  const fingerprint = fingerprintFile(path);
  return fingerprint === undefined ? "identities-not-a-file" : { identitiesSize: fingerprint.size, identitiesSha256: fingerprint.headTailSha256 };
}

/**
 * Formats the warning of a resume whose entry settings changed since the checkpoint was written.
 * `changed` names the groups that changed, or is undefined for a checkpoint of an earlier version.
 */
export function formatEntrySettingsChanged(statePath: string, changed: readonly string[] | undefined): string {
  const what =
    changed === undefined
      ? `the settings that decide the entries of an event (the mappings, filters, --browser-events, stitching, email exclusions or CSV options) differ from those of the run that wrote the checkpoint ${statePath}. That checkpoint, of an earlier version of koala-replay, kept one hash for all of them, so this run cannot tell which changed.`
      : `these settings changed since the run that wrote the checkpoint ${statePath}: ${describeEntrySettingGroups(changed).join("; ")}.`;
  return (
    `${what} --resume skips the events that run finished without mapping them again, those it skipped or found invalid included, so the change applies only to the events not finished yet. ` +
    "Run with --restart in place of --resume to read every event again with these settings: it sends what they make of the events that run skipped or found invalid, " +
    "but entries Koala already has stay as they are, because Koala keeps the first entry per message_id, so a restart neither changes nor removes them."
  );
}
