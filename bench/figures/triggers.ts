import segmentSubscriptions from "@segment/destination-subscriptions";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { compileTrigger } from "../../src/triggers/index.js";
import type { Figure, MeasureFigures } from "../figure.js";

const { parseFql, validate } = segmentSubscriptions;

interface BenchTrigger {
  id: string;
  label: string;
  text: string;
}

const benchTriggers: BenchTrigger[] = [
  { id: "trigger.preset-track.ns-per-event", label: 'Trigger `type = "track"` (Koala preset)', text: 'type = "track"' },
  { id: "trigger.preset-identify.ns-per-event", label: 'Trigger `type = "identify"` (Koala preset)', text: 'type = "identify"' },
  {
    id: "trigger.five-conditions.ns-per-event",
    label: "Trigger with five conditions joined by `and`",
    text: 'type = "track" and event != "Test Event" and context.library.name = "analytics.js" and match(context.page.path, "/data*") and context.ip != null',
  },
];

/** Number of timed rounds per implementation. The median round is reported. */
const rounds = 7;
/** Approximate time budget of one round, in milliseconds. */
const roundMilliseconds = 150;

/**
 * Measures the cost of deciding whether one event matches a trigger: koala-replay's compiled trigger
 * beside Segment's `validate(ast, event)` on an AST that `parseFql` built once. Both run on the same
 * events, in alternating rounds, and both results are consumed so neither call can be optimised away.
 */
export const measure: MeasureFigures = async ({ events }) => {
  if (events.length === 0) throw new Error("The trigger benchmark needs at least one event.");
  const figures: Figure[] = [];
  for (const trigger of benchTriggers) {
    const compiled = compileTrigger(trigger.text);
    const ast = parseFql(trigger.text);
    if ("error" in ast) throw new Error(`Segment could not parse the benchmark trigger ${trigger.text}.`);
    const ours = (event: SegmentEvent): boolean => compiled.matches(event);
    const theirs = (event: SegmentEvent): boolean => validate(ast, event);
    assertSameDecisions(trigger.text, events, ours, theirs);

    const [koalaReplay, baseline] = measureAlternating(events, ours, theirs);
    figures.push({
      id: trigger.id,
      label: trigger.label,
      unit: "ns/event",
      koalaReplay,
      baseline,
      baselineLabel: "@segment/destination-subscriptions 3.37.0 validate()",
      higherIsBetter: false,
    });
  }
  return figures;
};

function assertSameDecisions(
  text: string,
  events: readonly SegmentEvent[],
  ours: (event: SegmentEvent) => boolean,
  theirs: (event: SegmentEvent) => boolean,
): void {
  events.forEach((event, index) => {
    if (ours(event) !== theirs(event)) {
      throw new Error(`koala-replay and Segment disagree on event ${index} for the benchmark trigger ${text}.`);
    }
  });
}

function measureAlternating(
  events: readonly SegmentEvent[],
  ours: (event: SegmentEvent) => boolean,
  theirs: (event: SegmentEvent) => boolean,
): [number, number] {
  const passes = passesPerRound(events, theirs);
  const oursRounds: number[] = [];
  const theirsRounds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    oursRounds.push(timePasses(events, ours, passes));
    theirsRounds.push(timePasses(events, theirs, passes));
  }
  return [median(oursRounds), median(theirsRounds)];
}

/** Picks how many passes over the events fill one round, using the slower baseline as the yardstick. */
function passesPerRound(events: readonly SegmentEvent[], decide: (event: SegmentEvent) => boolean): number {
  let passes = 1;
  while (true) {
    const start = process.hrtime.bigint();
    runPasses(events, decide, passes);
    const elapsedMilliseconds = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsedMilliseconds >= roundMilliseconds / 4 || passes >= 1 << 24) {
      return Math.max(1, Math.round((passes * roundMilliseconds) / Math.max(elapsedMilliseconds, 1e-3)));
    }
    passes *= 2;
  }
}

let sink = 0;

function runPasses(events: readonly SegmentEvent[], decide: (event: SegmentEvent) => boolean, passes: number): void {
  let matched = 0;
  for (let pass = 0; pass < passes; pass++) {
    for (const event of events) if (decide(event)) matched++;
  }
  sink ^= matched;
}

/** Returns nanoseconds per event for `passes` passes over the events. */
function timePasses(events: readonly SegmentEvent[], decide: (event: SegmentEvent) => boolean, passes: number): number {
  const start = process.hrtime.bigint();
  runPasses(events, decide, passes);
  const elapsed = Number(process.hrtime.bigint() - start);
  return elapsed / (passes * events.length);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
