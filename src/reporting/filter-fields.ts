import { editDistance } from "../mappings/suggest.js";

/** Events whose fields `FilteredOutFields` takes, and the distinct paths it keeps, so that the sample costs little whatever the input. */
const MAX_SAMPLED_EVENTS = 1_000;
const MAX_FIELD_PATHS = 2_000;
/** Levels of objects whose keys are taken: deep enough for `context.traits.email` and `properties.product.sku`. */
const MAX_FIELD_DEPTH = 4;
/** Fields suggested for a misspelt field name, at most. */
const MAX_FIELD_SUGGESTIONS = 3;

/**
 * The filter fields that events excluded by the filter had, as bits in `listFilterFields` order.
 * While a field the filter tests is in none of them, the field paths of those events are kept too,
 * so that a misspelt field can be named with the field it probably meant.
 */
export class FilteredOutFields {
  seenBits = 0;
  readonly paths = new Set<string>();
  private sampled = 0;

  /**
   * Notes an event the filter excluded, with the bits of the filter fields it has. `readEvent` is
   * called only while some field of `allFieldBits` is unseen and fewer than 1,000 events were taken.
   */
  add(presentBits: number, allFieldBits: number, readEvent: () => unknown): void {
    this.seenBits |= presentBits;
    if ((this.seenBits & allFieldBits) === allFieldBits || this.sampled >= MAX_SAMPLED_EVENTS) {
      return;
    }
    this.sampled += 1;
    collectFieldPaths(readEvent(), "", this.paths);
  }
}

/** Returns the bits of every field of `fieldCount` filter fields. */
export function allFieldBits(fieldCount: number): number {
  return 2 ** fieldCount - 1;
}

/**
 * Names the filter fields that no excluded event had (`No event read has the field evnt, which
 * --filter tests. For evnt, did you mean event?`), or returns an empty string when each was seen.
 */
export function describeMissingFilterFields(fields: readonly { label: string; name: string }[], seenBits: number, seenPaths: ReadonlySet<string>): string {
  const missingByLabel = new Map<string, string[]>();
  fields.forEach((field, index) => {
    if ((seenBits & (1 << index)) === 0) {
      missingByLabel.set(field.label, [...(missingByLabel.get(field.label) ?? []), field.name]);
    }
  });
  const sentences = [...missingByLabel].map(([label, names]) => {
    const list = names.length === 1 ? `the field ${names[0]}` : `the fields ${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
    const suggestions = names.map((name) => suggestFieldText(name, seenPaths)).filter((text) => text !== "");
    return `No event read has ${list}, which ${label} tests.${suggestions.map((text) => ` ${text}`).join("")}`;
  });
  return sentences.join(" ");
}

/**
 * Names the fields of the events read that `name` may have meant (`For evnt, did you mean event?`),
 * or returns an empty string when none is close. A field is close when it is a likely misspelling,
 * as `closestMatch` judges one, or when its last part is `name`'s last part (`email` for `traits.email`).
 */
function suggestFieldText(name: string, seen: ReadonlySet<string>): string {
  const target = name.toLowerCase();
  const targetLast = lastSegment(target);
  const scored: Array<{ path: string; score: number }> = [];
  for (const path of seen) {
    const candidate = path.toLowerCase();
    const distance = editDistance(target, candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 3))) {
      scored.push({ path, score: distance });
    } else if (lastSegment(candidate) === targetLast) {
      // Behind every misspelling, because the whole path differs.
      scored.push({ path, score: 100 + distance });
    }
  }
  scored.sort((left, right) => left.score - right.score || left.path.localeCompare(right.path));
  const paths = scored.slice(0, MAX_FIELD_SUGGESTIONS).map((entry) => entry.path);
  if (paths.length === 0) {
    return "";
  }
  const list = paths.length === 1 ? paths[0] : `${paths.slice(0, -1).join(", ")} or ${paths[paths.length - 1]}`;
  return `For ${name}, did you mean ${list}?`;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf(".") + 1);
}

/** Adds the dotted paths of the object fields of `value`, as FQL names them, without entering arrays. */
function collectFieldPaths(value: unknown, prefix: string, paths: Set<string>, depth = 0): void {
  if (typeof value !== "object" || value === null || Array.isArray(value) || depth >= MAX_FIELD_DEPTH) {
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (paths.size >= MAX_FIELD_PATHS) {
      return;
    }
    const path = `${prefix}${key}`;
    paths.add(path);
    collectFieldPaths(child, `${path}.`, paths, depth + 1);
  }
}
