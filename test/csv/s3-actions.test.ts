import { describe, expect, it } from "vitest";
import { eventsOf, problemsOf, readOneEvent, readText } from "./read.js";

const HEADER = "event_name,event_type,user_id,anonymous_id,email,properties,traits,context,timestamp,message_id,integrations";

function row(cells: readonly string[]): string {
  return cells.map((cell) => '"' + cell.replaceAll('"', '""') + '"').join(",");
}

describe("AWS S3 (Actions) rows", () => {
  it("identify keeps traits at the top level", async () => {
    const event = await readOneEvent(
      HEADER + "\n" + row(["", "identify", "u1", "", "a@example.com", "", '{"plan":"pro"}', "", "1704721970", "m1", ""]),
    );
    expect(event).toEqual({
      type: "identify",
      userId: "u1",
      timestamp: "2024-01-08T13:52:50.000Z",
      traits: { plan: "pro", email: "a@example.com" },
      messageId: "m1",
    });
  });

  it("email does not replace the traits' email", async () => {
    const event = await readOneEvent(
      HEADER + "\n" + row(["", "identify", "u1", "", "b@example.com", "", '{"email":"a@example.com"}', "", "", "m1", ""]),
    );
    expect(event.traits).toEqual({ email: "a@example.com" });
  });

  it("track puts traits and email in context.traits", async () => {
    const event = await readOneEvent(
      HEADER +
        "\n" +
        row(["Signed Up", "track", "u1", "", "a@example.com", '{"plan":"pro"}', '{"name":"Ada"}', '{"ip":"192.0.2.1"}', "", "m1", ""]),
    );
    expect(event).toEqual({
      type: "track",
      event: "Signed Up",
      userId: "u1",
      properties: { plan: "pro" },
      context: { ip: "192.0.2.1", traits: { name: "Ada", email: "a@example.com" } },
      messageId: "m1",
    });
  });

  it("header matched case-insensitively, batch_size dropped", async () => {
    const header = "EVENT_NAME,EVENT_TYPE,MESSAGE_ID,batch_size,Extra Column";
    const event = await readOneEvent(header + "\n" + row(["Clicked", "track", "", "10", "x"]));
    expect(event.event).toBe("Clicked");
    expect(event.properties).toEqual({ "Extra Column": "x" });
    expect(event.messageId).toMatch(/^csv-[0-9a-f]{32}$/);
  });

  it("event type is case-insensitive", async () => {
    const event = await readOneEvent(HEADER + "\n" + row(["", "Page", "", "a1", "", "", "", "", "", "m1", ""]));
    expect(event.type).toBe("page");
  });

  it("invalid JSON in properties reports the row", async () => {
    const items = await readText(
      HEADER +
        "\n" +
        row(["A", "track", "u1", "", "", "{not json", "", "", "", "m1", ""]) +
        "\n" +
        row(["B", "track", "u2", "", "", "", "", "", "", "m2", ""]),
    );
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(2);
    expect(problems[0]!.reason).toBe("malformed-csv-row");
    expect(problems[0]!.message).toContain('Column "properties" is not valid JSON');
    expect(eventsOf(items).map((event) => event.event)).toEqual(["B"]);
  });

  it("array in traits reports the row", async () => {
    const items = await readText(HEADER + "\n" + row(["", "identify", "u1", "", "", "", "[1]", "", "", "m1", ""]));
    expect(problemsOf(items)[0]!.message).toContain('Column "traits" contains an array where a JSON object is expected');
  });

  it("unknown event type reports the row", async () => {
    const items = await readText(HEADER + "\n" + row(["A", "click", "u1", "", "", "", "", "", "", "m1", ""]));
    expect(problemsOf(items)[0]!.message).toContain('Column "event_type" contains "click", which is not an event type');
  });
});
