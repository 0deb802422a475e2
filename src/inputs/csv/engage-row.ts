import type { SegmentEvent } from "../record.js";
import { deriveMessageId } from "../message-id.js";
import { decodeValueCell, parseJsonOrUndefined } from "./cell.js";
import { isPlainObject, setOwn, type JsonObject } from "./event-object.js";
import type { RowConverter } from "./row-converter.js";

/**
 * Columns of Engage's audience and computed-trait "Download CSV" files: `key` (the profile key),
 * `value` (the computed trait's value), `external_ids` (JSON of every identifier of the profile) and
 * one column per identifier (`anonymous_id`, `user_id`, `email`, `email_1`, …).
 */
const ENGAGE_COLUMN_PATTERN = /^(key|value|external_ids|anonymous_id|user_id|email(_\d+)?|phone(_\d+)?)$/;

/**
 * Recognises an Engage download by its `external_ids` column, or by a header made only of Engage's
 * columns (the hashed-email audience file has just `email`).
 */
export function isEngageHeader(lowerCaseHeader: readonly string[]): boolean {
  if (lowerCaseHeader.includes("external_ids")) return true;
  return lowerCaseHeader.length > 0 && lowerCaseHeader.every((name) => ENGAGE_COLUMN_PATTERN.test(name));
}

const EMAIL_COLUMN_PATTERN = /^email(_\d+)?$/;

/** A SHA-256 digest in hex, which Engage writes in place of an email when emails are hashed. */
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/i;

export interface EngageRowOptions {
  /** Lower-cased header. */
  header: readonly string[];
  convertNumbers: boolean;
}

function targetOfColumn(name: string): string {
  if (name === "anonymous_id") return "anonymousId";
  if (name === "user_id") return "userId";
  return `traits.${name}`;
}

/**
 * Converts rows of an Engage download, which lists profiles rather than events, into identify
 * calls. `userId` and `anonymousId` come from their columns, else from the first id of that kind in
 * `external_ids`, and the `email` trait likewise. Every other column is a trait under
 * its own name (`key`, `value`, `email_1`), and `external_ids` is kept whole as a trait. An email
 * column holding a 64-digit hex SHA-256 becomes the trait `<column>_sha256`, not an address.
 */
export function createEngageRowConverter(options: EngageRowOptions): RowConverter {
  const { header, convertNumbers } = options;

  return {
    columnTargets: header.map(targetOfColumn),
    convertRow(cells) {
      const traits: JsonObject = {};
      const event: SegmentEvent = { type: "identify", traits };

      for (let index = 0; index < header.length; index += 1) {
        const cell = cells[index];
        if (cell === undefined || cell === "") continue;
        const name = header[index]!;
        if (name === "anonymous_id") event.anonymousId = cell;
        else if (name === "user_id") event.userId = cell;
        else if (name === "external_ids") setOwn(traits, name, decodeExternalIds(cell));
        else if (EMAIL_COLUMN_PATTERN.test(name)) setOwn(traits, SHA256_HEX_PATTERN.test(cell) ? `${name}_sha256` : name, cell);
        else setOwn(traits, name, decodeValueCell(cell, convertNumbers));
      }

      fillIdsFromExternalIds(event, traits);
      event.messageId = deriveMessageId(event, "csv-");
      return event;
    },
  };
}

/**
 * Parses the `external_ids` JSON. Segment's published examples write some quotes as curly quotes
 * (U+201C and U+201D), which makes the JSON invalid. So when strict parsing fails, the curly quotes
 * are replaced with straight ones and parsing is tried again. The repair assumes that identifiers
 * and emails contain no curly quotes. A cell that is still invalid is kept as text.
 */
export function decodeExternalIds(cell: string): unknown {
  const strict = parseJsonOrUndefined(cell);
  if (strict !== undefined) return strict;
  const repaired = parseJsonOrUndefined(cell.replace(/[\u201c\u201d]/g, '"'));
  return repaired ?? cell;
}

const ID_FIELDS_BY_EXTERNAL_ID_TYPE: readonly (readonly [string, "userId" | "anonymousId"])[] = [
  ["user_id", "userId"],
  ["anonymous_id", "anonymousId"],
];

function fillIdsFromExternalIds(event: SegmentEvent, traits: JsonObject): void {
  const externalIds = traits.external_ids;
  if (!isPlainObject(externalIds)) return;
  for (const [externalIdType, field] of ID_FIELDS_BY_EXTERNAL_ID_TYPE) {
    const first = firstString(externalIds[externalIdType]);
    if (event[field] === undefined && first !== undefined) event[field] = first;
  }
  const firstEmail = firstString(externalIds.email);
  if (traits.email !== undefined || traits.email_sha256 !== undefined || firstEmail === undefined) return;
  if (SHA256_HEX_PATTERN.test(firstEmail)) traits.email_sha256 = firstEmail;
  else traits.email = firstEmail;
}

function firstString(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (Array.isArray(value) && typeof value[0] === "string" && value[0] !== "") return value[0];
  return undefined;
}
