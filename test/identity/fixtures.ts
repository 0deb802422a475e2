import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SegmentEvent } from "../../src/inputs/record.js";

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/identity/${name}`, import.meta.url));
}

/** Reads a JSONL fixture, or a JSON file holding one event, as events. */
export function readEvents(name: string): SegmentEvent[] {
  const text = readFileSync(fixturePath(name), "utf8");
  if (name.endsWith(".json")) return [JSON.parse(text) as SegmentEvent];

  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as SegmentEvent);
}

export function eventWithMessageId(events: readonly SegmentEvent[], messageId: string): SegmentEvent {
  const event = events.find((candidate) => candidate["messageId"] === messageId);
  if (event === undefined) throw new Error(`No event with messageId ${messageId} in the fixture`);
  return event;
}
