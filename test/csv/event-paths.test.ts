import { describe, expect, it } from "vitest";
import { eventsOf, problemsOf, readOneEvent, readText } from "./read.js";

describe("event-path headers", () => {
  it("build nested events", async () => {
    const event = await readOneEvent(
      "type,event,userId,properties.plan,properties.price.amount,traits.email,context.ip\n" +
        "track,Upgraded,u1,pro,10,a@example.com,192.0.2.1\n",
    );
    expect(event).toEqual({
      type: "track",
      event: "Upgraded",
      userId: "u1",
      properties: { plan: "pro", price: { amount: "10" } },
      traits: { email: "a@example.com" },
      context: { ip: "192.0.2.1" },
      messageId: event.messageId,
    });
    expect(event.messageId).toMatch(/^csv-[0-9a-f]{32}$/);
  });

  it("type per row, payload by type", async () => {
    const items = await readText("type,userId,plan\ntrack,u1,pro\nidentify,u2,team\n");
    expect(eventsOf(items)).toEqual([
      { type: "track", userId: "u1", properties: { plan: "pro" }, messageId: expect.any(String) },
      { type: "identify", userId: "u2", traits: { plan: "team" }, messageId: expect.any(String) },
    ]);
  });

  it("type option for files without a type column", async () => {
    const event = await readOneEvent("userId,traits.email\nu1,a@example.com\n", { type: "identify" });
    expect(event).toEqual({ type: "identify", userId: "u1", traits: { email: "a@example.com" }, messageId: expect.any(String) });
  });

  it("event name without type means track", async () => {
    const event = await readOneEvent("event,userId\nSigned Up,u1\n");
    expect(event.type).toBe("track");
  });

  it("no type and no event reports the row", async () => {
    const items = await readText("userId,traits.email\nu1,a@example.com\n");
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(2);
    expect(problems[0]!.message).toContain("no event type");
  });

  it("JSON object column merged with path columns", async () => {
    const event = await readOneEvent('properties.plan,type,properties\npro,track,"{""seats"":3}"\n');
    expect(event.properties).toEqual({ seats: 3, plan: "pro" });
  });

  it("invalid JSON object column reports the row", async () => {
    const items = await readText("type,properties\ntrack,not json\n");
    expect(problemsOf(items)[0]!.message).toContain('Column "properties" is not valid JSON');
  });

  it("timestamps normalised, ids kept as text", async () => {
    const event = await readOneEvent(
      "type,messageId,anonymousId,timestamp,sentAt,receivedAt,originalTimestamp\n" +
        "page,0042,0001,2015-02-23 22:28:55,1668810730,1668401002896,2015-02-23T22:28:55+01:00\n",
      { convertNumbers: true },
    );
    expect(event).toEqual({
      type: "page",
      messageId: "0042",
      anonymousId: "0001",
      timestamp: "2015-02-23T22:28:55.000Z",
      sentAt: "2022-11-18T22:32:10.000Z",
      receivedAt: "2022-11-14T04:43:22.896Z",
      originalTimestamp: "2015-02-23T21:28:55.000Z",
      properties: {},
    });
  });

  it("snake_case and other cases of top-level fields", async () => {
    const event = await readOneEvent("Type,user_id,ANONYMOUSID,groupId\ngroup,u1,a1,g1\n");
    expect(event).toEqual({ type: "group", userId: "u1", anonymousId: "a1", groupId: "g1", traits: {}, messageId: expect.any(String) });
  });

  it("values follow the cell rules", async () => {
    const event = await readOneEvent('type,properties.tags,properties.count,properties.note\ntrack,"[""a""]",7,\n', {
      convertNumbers: true,
    });
    expect(event.properties).toEqual({ tags: ["a"], count: 7 });
  });

  it("unknown root path kept at the top level", async () => {
    const event = await readOneEvent("type,page.url\npage,https://example.com\n");
    expect(event.page).toEqual({ url: "https://example.com" });
  });

  it("colliding paths keep both cells", async () => {
    const event = await readOneEvent("type,properties.plan,properties.plan.name\ntrack,pro,Pro Plan\n");
    expect(event.properties).toEqual({ plan: "pro", "plan.name": "Pro Plan" });
  });
});
