import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Settings of `writeTrackEvents`. */
export interface TrackEventsOptions {
  /** Properties added to each event, after its `index`. */
  properties?: (index: number) => Record<string, unknown>;
  /** File name in the directory; other names than the default prefix the message ids with it. */
  name?: string;
}

/**
 * Writes `count` analytics-node track events of 25 persons, each with an email, as JSON lines, and
 * returns the file and the message ids: `e2e-1`, `e2e-2`… or `<name>-1`… for another file name.
 */
export function writeTrackEvents(directory: string, count: number, options: TrackEventsOptions = {}): { path: string; ids: string[] } {
  const name = options.name ?? "events.jsonl";
  const prefix = name === "events.jsonl" ? "e2e" : name;
  const ids: string[] = [];
  const lines: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    const messageId = `${prefix}-${index}`;
    ids.push(messageId);
    lines.push(
      JSON.stringify({
        type: "track",
        event: "Report Exported",
        messageId,
        timestamp: "2024-05-01T10:00:00.000Z",
        userId: `user-${index % 25}`,
        context: { library: { name: "analytics-node", version: "2.0.0" }, traits: { email: `user${index % 25}@example.com` } },
        properties: { index, ...options.properties?.(index) },
      }),
    );
  }
  const path = join(directory, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { path, ids };
}
