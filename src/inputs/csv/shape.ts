import { isEngageHeader } from "./engage-row.js";
import { isEventPathHeader } from "./path-row.js";
import { S3_ACTIONS_SIGNATURE } from "./s3-actions-row.js";

/** The kinds of CSV files koala-replay reads, each with its own row converter. */
export type CsvShape = "warehouse" | "s3-actions" | "event-paths" | "engage";

/**
 * Detects the shape of a CSV file from its cleaned header, in this order:
 * 1. `event_name`, `event_type` and `message_id` columns: Segment's AWS S3 (Actions) CSV;
 * 2. an `external_ids` column: an Engage download;
 * 3. a header with a dot (`properties.plan`) or a camelCase Segment field (`userId`): event paths;
 * 4. only Engage's columns (`key`, `value`, `email`, `anonymous_id`, …): an Engage download, even
 *    when a table was named, because a file name such as `audience_export.csv` looks like one;
 * 5. a table named by the user: that warehouse table;
 * 6. a table named by the file name, unless the header has a `type` column and no `id` column.
 *    A warehouse table has an `id` and no `type`, and a per-event table whose event has a `type`
 *    property still has its `id`. So `signups.csv` with a `type` column is a hand-made file;
 * 7. a `type` column: event paths;
 * 8. otherwise a warehouse table.
 */
export function detectCsvShape(header: readonly string[], tableSource: "given" | "file-name" | undefined): CsvShape {
  const lowerCaseHeader = header.map((name) => name.toLowerCase());
  if (S3_ACTIONS_SIGNATURE.every((name) => lowerCaseHeader.includes(name))) return "s3-actions";
  if (lowerCaseHeader.includes("external_ids")) return "engage";
  if (header.some(isEventPathHeader)) return "event-paths";
  if (isEngageHeader(lowerCaseHeader)) return "engage";
  if (tableSource === "given") return "warehouse";
  const typed = lowerCaseHeader.includes("type");
  if (tableSource === "file-name" && !(typed && !lowerCaseHeader.includes("id"))) return "warehouse";
  if (typed) return "event-paths";
  return "warehouse";
}
