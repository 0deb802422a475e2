import { describe, expect, test } from "vitest";
import { formatWithTextWidth, displayWidth, wrapText } from "../../src/reporting/wrap-text.js";

// The tests run in order: string-width is loaded by the first call of formatWithTextWidth that
// measures text that is not printable ASCII, and stays loaded for the rest of the file.
describe("displayWidth", () => {
  test("printable ASCII counts its length", () => {
    expect(displayWidth("events read 1,024")).toBe(17);
  });

  test("other characters count two before loading", () => {
    expect(displayWidth("Café")).toBe(5);
    expect(displayWidth("漢字")).toBe(4);
  });

  test("ASCII-only formatting loads nothing", async () => {
    const lines = await formatWithTextWidth(() => wrapText("alpha beta", 80, "", ""));

    expect(lines).toEqual(["alpha beta"]);
    expect(displayWidth("é")).toBe(2);
  });

  test("wide text formats again, measured exactly", async () => {
    // "Café Café" is 9 columns: it fits a 9-column line only when é counts one.
    const lines = await formatWithTextWidth(() => wrapText("Café Café", 9, "", ""));

    expect(lines).toEqual(["Café Café"]);
    expect(displayWidth("Café")).toBe(4);
    expect(displayWidth("漢字")).toBe(4);
  });
});
