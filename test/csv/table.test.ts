import { describe, expect, it } from "vitest";
import { describeTable, tableFromFileName } from "../../src/inputs/csv/table.js";

describe("tableFromFileName", () => {
  it.each([
    ["tracks.csv", "tracks"],
    ["/exports/IDENTIFIES.CSV", "identifies"],
    ["order_completed.csv.gz", "order_completed"],
    ["pages.txt", "pages"],
    ["users", "users"],
    ["dir.with.dots/screens.csv", "screens"],
  ])("%s is %s", (path, table) => {
    expect(tableFromFileName(path)).toBe(table);
  });

  it.each(["export-2024-01-08.csv", "my file.csv", "2024_tracks.csv", "data.json.gz"])("%s has none", (path) => {
    expect(tableFromFileName(path)).toBeUndefined();
  });
});

describe("describeTable", () => {
  it.each([
    ["tracks", "track"],
    ["identifies", "identify"],
    ["users", "identify"],
    ["pages", "page"],
    ["screens", "screen"],
    ["groups", "group"],
    ["aliases", "alias"],
  ])("%s rows are %s calls", (name, type) => {
    expect(describeTable(name)).toEqual({ name, type, isPerEventTable: false });
  });

  it("other names are per-event track tables", () => {
    expect(describeTable("ORDER_COMPLETED")).toEqual({ name: "order_completed", type: "track", isPerEventTable: true });
  });
});
