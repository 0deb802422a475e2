import { describe, expect, it } from "vitest";
import { presetMappings } from "../../src/koala/presets.js";
import { compileMapping, validatePayload } from "../../src/mappings/index.js";
import { readArchiveEvents } from "./archive-events.js";
import { actionsCore, segmentPreparePayload } from "./segment-reference.js";

const events = readArchiveEvents();

const cases = presetMappings().flatMap((preset) =>
  events.map(({ origin, event }) => [`${preset.name} on ${origin}`, preset, event] as const),
);

describe("presets against Segment's transform", () => {
  it("reads the fixture archives", () => {
    expect(events.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)("%s", (_label, preset, event) => {
    // actions-core modifies the mapping and data it is given, so it gets copies.
    const reference = actionsCore.transform(structuredClone(preset.mapping), structuredClone(event));
    const payload = compileMapping(preset.mapping).apply(event);
    expect(payload, `event: ${JSON.stringify(event)}`).toStrictEqual(reference);

    const referencePrepared = segmentPreparePayload(preset.action, reference);
    const problem = validatePayload(preset.action, payload);
    expect(problem === undefined, `Segment sends ${JSON.stringify(referencePrepared)}, koala-replay: ${JSON.stringify(problem)}`).toBe(
      referencePrepared !== undefined,
    );
    if (referencePrepared !== undefined) expect(payload).toStrictEqual(referencePrepared);
  });
});
