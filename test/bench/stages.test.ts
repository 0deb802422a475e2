import { describe, expect, it } from "vitest";
import { measure } from "../../bench/figures/stages.js";
import { defaultUsersFor } from "../../bench/archive-cache.js";
import { archiveLines } from "../../bench/generate/archive.js";
import type { SegmentEvent } from "../../src/inputs/record.js";

describe("stages figure", () => {
  it("costs each stage above parsing alone", async () => {
    const events = [...archiveLines({ events: 2_000, users: defaultUsersFor(2_000), seed: 1 })].map((line) => JSON.parse(line) as SegmentEvent);
    const figures = await measure({ events });

    expect(figures.map((figure) => figure.id)).toEqual(["stages.process.cpu-us-per-event", "stages.encode.cpu-us-per-event", "stages.decode.cpu-us-per-event"]);
    for (const figure of figures) {
      expect(figure.baseline).toBeGreaterThan(0);
      expect(figure.koalaReplay).toBeGreaterThan(figure.baseline ?? Number.POSITIVE_INFINITY);
    }
  });
});
