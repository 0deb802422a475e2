import { createRequire } from "node:module";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { presetMappings, type MappingDefinition } from "../../src/koala/presets.js";
import { compileMapping } from "../../src/mappings/index.js";
import type { Figure, MeasureFigures } from "../figure.js";

// actions-core's ES module build does not load in Node 20, so its CommonJS build is used.
const require = createRequire(import.meta.url);
const { transform } = require("@segment/actions-core") as {
  transform(mapping: unknown, data: unknown): Record<string, unknown>;
};

const baselineLabel = "@segment/actions-core 3.170.0 transform";
const minimumSampleMs = 200;
const samples = 7;

type MapEvent = (event: SegmentEvent) => Record<string, unknown>;

/** Events the preset's trigger selects (`type = "track"` or `type = "identify"`), or all events when none match. */
function eventsFor(preset: MappingDefinition, events: readonly SegmentEvent[]): readonly SegmentEvent[] {
  const type = preset.action === "trackEvent" ? "track" : "identify";
  const selected = events.filter((event) => event.type === type);
  return selected.length > 0 ? selected : events;
}

/** Maps every event `rounds` times. Returns the elapsed nanoseconds and a checksum that keeps the work observable. */
function timeRounds(mapEvent: MapEvent, events: readonly SegmentEvent[], rounds: number): { nanoseconds: number; checksum: number } {
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    for (const event of events) if (mapEvent(event) !== undefined) checksum++;
  }
  return { nanoseconds: Number(process.hrtime.bigint() - start), checksum };
}

/** Median cost per event in nanoseconds over several samples of at least `minimumSampleMs` each, after a warm-up. */
function nanosecondsPerEvent(mapEvent: MapEvent, events: readonly SegmentEvent[]): number {
  let rounds = 1;
  while (timeRounds(mapEvent, events, rounds).nanoseconds < minimumSampleMs * 1e6) rounds *= 2;
  const costs: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    costs.push(timeRounds(mapEvent, events, rounds).nanoseconds / (rounds * events.length));
  }
  costs.sort((left, right) => left - right);
  return costs[Math.floor(samples / 2)] ?? Number.NaN;
}

function presetFigure(preset: MappingDefinition, events: readonly SegmentEvent[]): Figure {
  const selected = eventsFor(preset, events);
  const compiled = compileMapping(preset.mapping);
  // The presets use only @if and @path, which leave the mapping and the event unmodified in
  // actions-core, so the baseline needs no copies (copying would inflate its cost).
  const mapping = preset.mapping;
  const id = preset.action === "trackEvent" ? "preset-track" : "preset-identify";
  return {
    id: `mapping.${id}.ns-per-event`,
    label: `${preset.name} preset: mapping cost per event (${selected.length} distinct events)`,
    unit: "ns/event",
    koalaReplay: nanosecondsPerEvent((event) => compiled.apply(event), selected),
    baseline: nanosecondsPerEvent((event) => transform(mapping, event), selected),
    baselineLabel,
    higherIsBetter: false,
  };
}

/** Mapping cost of the two presets, compiled once, beside Segment's engine on the same events. */
export const measure: MeasureFigures = async (context) =>
  presetMappings().map((preset) => presetFigure(preset, context.events));
