import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readCsvRecords } from "../../src/inputs/csv/index.js";

const ROW_COUNT = 100_000;
const BAD_ROW_EVERY = 10_000;

/** Yields a warehouse tracks export in 64 KiB chunks, cut anywhere, with a ragged row every 10 000 rows. */
function* generateTracksCsv(): Generator<Buffer> {
  let pending = "id,anonymous_id,user_id,timestamp,event_text,context_ip,plan,seats\n";
  for (let index = 1; index <= ROW_COUNT; index += 1) {
    const cells = index % BAD_ROW_EVERY === 0 ? `m${index},a${index}` : `m${index},a${index},u${index % 97},2024-01-02 03:04:05,Signed Up,192.0.2.${index % 250},"pro, yearly",${index % 50}`;
    pending += cells + "\n";
    if (pending.length >= 65_536) {
      yield Buffer.from(pending);
      pending = "";
    }
  }
  if (pending !== "") yield Buffer.from(pending);
}

describe("streaming", () => {
  it("multi-MB input read row by row", async () => {
    let byteCount = 0;
    const chunks = (function* () {
      for (const chunk of generateTracksCsv()) {
        byteCount += chunk.length;
        yield chunk;
      }
    })();

    let recordCount = 0;
    let problemCount = 0;
    let lastLine = 0;
    let lastEvent: Record<string, unknown> | undefined;
    for await (const item of readCsvRecords(Readable.from(chunks), { input: "big.csv", table: "tracks", convertNumbers: true })) {
      if (item.kind === "record") {
        recordCount += 1;
        lastEvent = item.event;
      } else {
        problemCount += 1;
      }
      lastLine = item.origin.line;
    }

    expect(byteCount).toBeGreaterThan(5 * 1024 * 1024);
    expect(recordCount).toBe(ROW_COUNT - ROW_COUNT / BAD_ROW_EVERY);
    expect(problemCount).toBe(ROW_COUNT / BAD_ROW_EVERY);
    expect(lastLine).toBe(ROW_COUNT + 1);
    expect(lastEvent).toEqual({
      type: "track",
      messageId: `m${ROW_COUNT - 1}`,
      anonymousId: `a${ROW_COUNT - 1}`,
      userId: `u${(ROW_COUNT - 1) % 97}`,
      timestamp: "2024-01-02T03:04:05.000Z",
      event: "Signed Up",
      context: { ip: `192.0.2.${(ROW_COUNT - 1) % 250}` },
      properties: { plan: "pro, yearly", seats: (ROW_COUNT - 1) % 50 },
    });
  });

  it("stopping early releases the input", async () => {
    const source = Readable.from(generateTracksCsv());
    let count = 0;
    for await (const item of readCsvRecords(source, { input: "big.csv", table: "tracks", convertNumbers: false })) {
      void item;
      count += 1;
      if (count === 10) break;
    }
    expect(count).toBe(10);
    expect(source.destroyed).toBe(true);
  });
});
