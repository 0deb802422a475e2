import { describe, expect, test } from "vitest";
import { DEAD_LETTER_MARKER } from "../../src/delivery/dead-letter.js";
import { defaultMessageIdOf, mapsEventMessageIds, RepeatFilter } from "../../src/delivery/repeat-filter.js";
import { createIdKey, hashId } from "../../src/identity/hash-id.js";
import { deriveMessageId } from "../../src/inputs/message-id.js";
import { presetMappings } from "../../src/koala/presets.js";
import { rootDirectiveKey } from "../../src/mappings/compile.js";

/** Observes each id of `ids` in order, as the first pass does, and ends the first pass. */
function observeAll(filter: RepeatFilter, ids: readonly string[]): void {
  const key = createIdKey();
  for (const id of ids) {
    hashId(id, key);
    filter.observeKey(key, 0);
  }
  filter.finishFirstPass();
}

describe("RepeatFilter", () => {
  test("every repeat found when overloaded", () => {
    // 200,000 ids in the smallest filters, about 0.3 bits an id: most single ids are taken for repeats too.
    const ids = Array.from({ length: 200_000 }, (_, index) => `m-${index}`);
    const repeats = Array.from({ length: 2_000 }, (_, index) => `m-${index * 97}`);
    const filter = new RepeatFilter(0);
    observeAll(filter, [...ids, ...repeats]);

    const missed = repeats.filter((id) => !filter.mayRepeat(id));
    expect(missed).toEqual([]);
  });

  test("single ids mostly ruled out", () => {
    const ids = Array.from({ length: 100_000 }, (_, index) => `a1b2c3d4-${index}`);
    const repeats = Array.from({ length: 1_000 }, (_, index) => `a1b2c3d4-${index * 89}`);
    // 800 bytes an event, as in Segment's exports.
    const filter = new RepeatFilter(100_000 * 800);
    observeAll(filter, [...repeats.slice(0, 500), ...ids, ...repeats.slice(500)]);

    expect(repeats.filter((id) => !filter.mayRepeat(id))).toEqual([]);
    const repeatSet = new Set(repeats);
    const singlesTaken = ids.filter((id) => !repeatSet.has(id) && filter.mayRepeat(id)).length;
    expect(singlesTaken).toBeLessThan(1_000);
  });

  test("turned off, every id may repeat", () => {
    const filter = new RepeatFilter(1_000_000);
    observeAll(filter, ["m-1", "m-2"]);
    filter.giveUp();

    expect(filter.isOff).toBe(true);
    expect(filter.mayRepeat("m-1")).toBe(true);
    expect(filter.mayRepeat("m-3")).toBe(true);
  });

  test("ids after giving up ignored", () => {
    const filter = new RepeatFilter(1_000_000);
    filter.giveUp();
    observeAll(filter, ["m-1", "m-1"]);

    expect(filter.mayRepeat("m-2")).toBe(true);
  });
});

describe("defaultMessageIdOf", () => {
  test("string id as given", () => {
    expect(defaultMessageIdOf({ type: "track", messageId: "m-1" })).toBe("m-1");
  });

  test("number id as text", () => {
    expect(defaultMessageIdOf({ type: "track", messageId: 42 })).toBe("42");
  });

  test("missing or empty id derived", () => {
    const missing = { type: "track", event: "A" };
    const empty = { type: "track", event: "A", messageId: "" };
    const nullId = { type: "track", event: "A", messageId: null };

    expect(defaultMessageIdOf(missing)).toBe(deriveMessageId(missing));
    expect(defaultMessageIdOf(empty)).toBe(deriveMessageId(empty));
    expect(defaultMessageIdOf(nullId)).toBe(deriveMessageId(nullId));
  });

  test("dead-letter line has none", () => {
    expect(defaultMessageIdOf({ [DEAD_LETTER_MARKER]: 1, messageId: "m-1" })).toBeUndefined();
  });
});

describe("mapsEventMessageIds", () => {
  test("presets", () => {
    expect(mapsEventMessageIds(presetMappings())).toBe(true);
  });

  test("message_id from another field", () => {
    const [track, identify] = presetMappings();
    const orders = { ...track!, name: "Orders", mapping: { ...track!.mapping, message_id: { "@path": "$.properties.orderId" } } };

    expect(mapsEventMessageIds([track!, identify!, orders])).toBe(false);
  });

  test("message_id from a template", () => {
    const [track] = presetMappings();
    const templated = { ...track!, mapping: { ...track!.mapping, message_id: { "@template": "{{messageId}}-a" } } };

    expect(mapsEventMessageIds([templated])).toBe(false);
  });

  test("disabled mapping ignored", () => {
    const [track] = presetMappings();
    const disabled = { ...track!, name: "Off", enabled: false, mapping: { message_id: { "@template": "x" } } };

    expect(mapsEventMessageIds([track!, disabled])).toBe(true);
  });

  test("missing message_id", () => {
    const [track] = presetMappings();
    const { message_id: _removed, ...withoutMessageId } = track!.mapping;

    expect(mapsEventMessageIds([{ ...track!, mapping: withoutMessageId }])).toBe(false);
  });

  test("root directive", () => {
    const [track] = presetMappings();
    const wrapped = { ...track!, mapping: { ...track!.mapping, [rootDirectiveKey]: { "@transform": { apply: {} } } } };

    expect(mapsEventMessageIds([wrapped])).toBe(false);
  });
});
