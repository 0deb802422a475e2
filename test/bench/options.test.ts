import { describe, expect, it } from "vitest";
import { parseBenchOptions } from "../../bench/options.js";

describe("parseBenchOptions", () => {
  it("uses the full defaults without flags", () => {
    expect(parseBenchOptions([], {})).toEqual({
      events: 200_000,
      memoryEvents: [100_000, 1_000_000],
      repetitions: 3,
      startupRuns: 20,
      sampleEvents: 50_000,
      seed: 1,
      sections: ["startup", "throughput", "memory", "modules"],
    });
  });

  it("uses small defaults with --quick", () => {
    const options = parseBenchOptions(["--quick"], {});
    expect(options).toMatchObject({ events: 20_000, memoryEvents: [10_000, 100_000], repetitions: 1 });
  });

  it("reads BENCH_ variables from the environment", () => {
    const options = parseBenchOptions([], { BENCH_EVENTS: "1000000", BENCH_MEMORY_EVENTS: "5000,1000", BENCH_QUICK: "1" });
    expect(options).toMatchObject({ events: 1_000_000, memoryEvents: [1_000, 5_000], repetitions: 1 });
  });

  it("prefers a flag over the environment", () => {
    expect(parseBenchOptions(["--events", "300"], { BENCH_EVENTS: "1000000" })).toMatchObject({ events: 300 });
  });

  it("selects sections with --only", () => {
    expect(parseBenchOptions(["--only", "memory,startup"], {})).toMatchObject({ sections: ["memory", "startup"] });
  });

  it.each([
    [["--events", "0"], '--events must be a whole number ≥ 1, got "0"'],
    [["--events", "1e3x"], '--events must be a whole number ≥ 1, got "1e3x"'],
    [["--memory-events", "100,abc"], '--memory-events must be a whole number ≥ 1, got "abc"'],
    [["--only", "speed"], '--only takes startup, throughput, memory, modules, got "speed"'],
  ])("rejects %j", (argv, message) => {
    expect(() => parseBenchOptions(argv, {})).toThrow(message);
  });

  it("rejects an unknown flag", () => {
    expect(() => parseBenchOptions(["--event", "5"], {})).toThrow("--event");
  });

  it("returns help for --help", () => {
    expect(parseBenchOptions(["--help"], {})).toBe("help");
  });
});
