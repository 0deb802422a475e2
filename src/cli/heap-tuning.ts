import { setFlagsFromString } from "node:v8";

/**
 * Tunes V8's garbage collector for a replay, where the main thread keeps a few thousand entries
 * waiting for their batch while about 90,000 pass through it each second. On a dry run of
 * 1 million events (see BENCHMARKS.md), these two settings lowered the peak memory from about
 * 245 MB to about 195 MB, for the same CPU time:
 *
 * - V8 allocates the objects of a line of code straight in the old generation once most of them
 *   have outlived a young-generation collection ("pretenuring"). Entries waiting for their batch
 *   taught it that, so every entry went to the old generation, which only a full collection frees:
 *   680 MB passed through it in that run, against 180 MB without pretenuring.
 * - The old generation may grow to 1.5 times its live size before a full collection, instead of up
 *   to four times. A stitching dry run peaks early in its second pass, before that pass's first full
 *   collection. Against twice the live size, this lowered the mean peak of 1 million events from
 *   167 to 160 MiB and of 100,000 from 139 to 137 MiB. The CPU time of 1 million events rose from
 *   20.3 to 20.9 s (5 interleaved runs each, on 2 cores shared with other work).
 *
 * Both steer heuristics that V8 reads at each collection, and change no result. Node's documentation
 * warns that a flag set after start-up may have no effect; the benchmark would show it. The CLI sets
 * them, not the library, because they apply to the whole process.
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString("--no-allocation-site-pretenuring");
  setFlagsFromString("--heap-growing-percent=50");
}
