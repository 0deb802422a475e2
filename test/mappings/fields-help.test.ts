import { describe, expect, it } from "vitest";
import { actionFields } from "../../src/koala/fields.js";
import { renderActionFields } from "../../src/mappings/index.js";

describe("renderActionFields", () => {
  it("lists every field with its default as text", () => {
    const text = renderActionFields("text");
    expect(text).toContain('Track Event (action "trackEvent", preset trigger: type = "track")');
    for (const fields of Object.values(actionFields)) {
      for (const field of fields) {
        expect(text).toContain(`  ${field.name} `);
        expect(text).toContain(`default: ${JSON.stringify(field.default)}`);
      }
    }
    expect(text).toContain("sent_at     string (date-time), required");
  });

  it("renders one markdown table per action", () => {
    const markdown = renderActionFields("markdown");
    expect(markdown).toContain("### Identify Visitor (`identifyVisitor`)");
    expect(markdown).toContain("| `traits` | object | yes | Traits of the person |");
    const rows = markdown.split("\n").filter((line) => line.startsWith("| `"));
    expect(rows).toHaveLength(actionFields.trackEvent.length + actionFields.identifyVisitor.length);
  });
});
