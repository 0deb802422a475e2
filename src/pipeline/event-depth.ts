import { DEAD_LETTER_MARKER } from "../delivery/dead-letter.js";
import type { InputProblem, RecordOrigin, SegmentEvent } from "../inputs/record.js";
import { formatCount } from "../reporting/count-format.js";

/**
 * Maximum nesting depth of an event, the event object itself counting as level 1. Mapping and
 * serialising an event recurse once per level. With the preset mappings on Node 20, the main
 * thread's stack overflowed at about 4,100 levels and a worker thread's at about 16,500. Without a
 * limit of its own, an event between the two was sent or unreadable depending on the thread that
 * took its chunk, which changes from run to run. Segment's events are far shallower, because its
 * API takes events of at most 32 KB.
 */
export const MAX_EVENT_DEPTH = 1000;

/**
 * Checks whether an event nests more than `MAX_EVENT_DEPTH` levels deep. `text` is the event's JSON
 * text when known. Each level opens and closes with a bracket, so a text shorter than twice the
 * limit is not walked, nor one with no more opening brackets than the limit. Counting them costs a
 * fraction of the walk, which took about half the time of `JSON.parse` on events of 3 KB.
 */
export function isNestedTooDeeply(event: SegmentEvent, text?: string): boolean {
  // A dead-letter line contains the event one level down, so it may be one level deeper than the event.
  const maxDepth = event[DEAD_LETTER_MARKER] === undefined ? MAX_EVENT_DEPTH : MAX_EVENT_DEPTH + 1;
  if (text !== undefined && (text.length < 2 * (maxDepth + 1) || !opensMoreThan(text, maxDepth))) {
    return false;
  }
  return nestsDeeperThan(event, maxDepth);
}

/** Checks whether `text` has more than `limit` opening brackets, inside strings or not. */
function opensMoreThan(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ["{", "["]) {
    for (let index = text.indexOf(bracket); index !== -1; index = text.indexOf(bracket, index + 1)) {
      count += 1;
      if (count > limit) {
        return true;
      }
    }
  }
  return false;
}

/** Returns the problem of an event nested more than `MAX_EVENT_DEPTH` levels deep, or undefined. `text` is as in `isNestedTooDeeply`. */
export function eventDepthProblem(event: SegmentEvent, origin: RecordOrigin, text?: string): InputProblem | undefined {
  if (!isNestedTooDeeply(event, text)) {
    return undefined;
  }
  return {
    origin,
    reason: "malformed-json",
    message: `${origin.input}:${origin.line}: the event is nested too deeply to process (more than ${formatCount(MAX_EVENT_DEPTH)} levels); flatten or remove the line`,
  };
}

/** Checks whether objects and arrays nest more than `maxDepth` levels in `value`, without recursion. */
function nestsDeeperThan(value: object, maxDepth: number): boolean {
  const containers: object[] = [value];
  const depths: number[] = [1];
  for (let container = containers.pop(); container !== undefined; container = containers.pop()) {
    const depth = depths.pop() as number;
    if (depth > maxDepth) {
      return true;
    }
    for (const child of Array.isArray(container) ? container : Object.values(container)) {
      if (typeof child === "object" && child !== null) {
        containers.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
