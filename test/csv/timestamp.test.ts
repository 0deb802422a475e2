import { describe, expect, it } from "vitest";
import { normaliseTimestamp } from "../../src/inputs/csv/timestamp.js";

describe("normaliseTimestamp", () => {
  it.each([
    ["2015-02-23 22:28:55", "2015-02-23T22:28:55.000Z"],
    ["2015-02-23T22:28:55", "2015-02-23T22:28:55.000Z"],
    ["2015-02-23 22:28", "2015-02-23T22:28:00.000Z"],
    ["2015-02-23", "2015-02-23T00:00:00.000Z"],
    ["2015-02-23 22:28:55.123456", "2015-02-23T22:28:55.123Z"],
    ["2015-02-23 22:28:55.5", "2015-02-23T22:28:55.500Z"],
    ["2015-02-23 22:28:55 UTC", "2015-02-23T22:28:55.000Z"],
    ["2015-02-23 22:28:55.123 UTC", "2015-02-23T22:28:55.123Z"],
    ["2024-01-08T13:52:50.212Z", "2024-01-08T13:52:50.212Z"],
    ["2024-01-08T13:52:50.212345678Z", "2024-01-08T13:52:50.212Z"],
    ["2024-01-08T19:22:50.212+05:30", "2024-01-08T13:52:50.212Z"],
    ["2024-01-08 19:22:50 +0530", "2024-01-08T13:52:50.000Z"],
    ["2024-01-08 06:52:50-07", "2024-01-08T13:52:50.000Z"],
  ])("date-time %s", (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each([
    ["1668810730", "2022-11-18T22:32:10.000Z"],
    ["1668810730.25", "2022-11-18T22:32:10.250Z"],
    ["1668401002896", "2022-11-14T04:43:22.896Z"],
    ["1668401002896123", "2022-11-14T04:43:22.896Z"],
    ["1668401002896123456", "2022-11-14T04:43:22.896Z"],
    ["0", "1970-01-01T00:00:00.000Z"],
    ["99999999999", "5138-11-16T09:46:39.000Z"],
    ["100000000000", "1973-03-03T09:46:40.000Z"],
  ])("epoch %s by magnitude", (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each(["yesterday", "01/08/2024", "2024-13-45 10:00:00", "", "Mon Jan 08 2024"])(
    "unrecognised %j kept as written",
    (input) => {
      expect(normaliseTimestamp(input)).toBe(input);
    },
  );
});

describe("normaliseTimestamp calendar checks", () => {
  it.each([
    ["2024-02-29 10:00:00", "2024-02-29T10:00:00.000Z"],
    ["2000-02-29 10:00:00", "2000-02-29T10:00:00.000Z"],
    ["2024-04-30T23:59:59Z", "2024-04-30T23:59:59.000Z"],
  ])("valid %s", (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each(["2023-02-29 10:00:00", "1900-02-29 10:00:00", "2024-04-31 10:00:00", "2024-01-01 24:00:00", "2024-01-01 10:60:00", "2024-01-01 10:00:60", "2024-00-10", "2024-01-00"])(
    "invalid %s kept as written",
    (input) => {
      expect(normaliseTimestamp(input)).toBe(input);
    },
  );

  it("matches Date for every day of a leap and a common year", () => {
    for (const year of [2023, 2024]) {
      for (let time = Date.UTC(year, 0, 1); time < Date.UTC(year + 1, 0, 1); time += 86_400_000 + 3_723_000) {
        const iso = new Date(time).toISOString();
        const warehouseText = iso.slice(0, 10) + " " + iso.slice(11, 23);
        expect(normaliseTimestamp(warehouseText)).toBe(iso);
      }
    }
  });
});
