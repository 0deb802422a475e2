import { describe, expect, it } from "vitest";
import { decodeExternalIds } from "../../src/inputs/csv/engage-row.js";
import { eventsOf, problemsOf, readOneEvent, readText } from "./read.js";

describe("decodeExternalIds", () => {
  it("valid JSON parsed as is", () => {
    expect(decodeExternalIds('{"email":["a@example.com"]}')).toEqual({ email: ["a@example.com"] });
  });

  it("curly quotes repaired", () => {
    expect(decodeExternalIds("{\u201cemail\u201d: [\u201ca@example.com\u201d]}")).toEqual({ email: ["a@example.com"] });
  });

  it("still invalid kept as text", () => {
    expect(decodeExternalIds("{email: a@example.com}")).toBe("{email: a@example.com}");
  });
});

describe("Engage rows", () => {
  it("invalid external_ids kept as a text trait, row kept", async () => {
    const items = await readText('key,external_ids,email\nsegment_id_1,"{broken",a@example.com\n');
    expect(problemsOf(items)).toEqual([]);
    const [event] = eventsOf(items);
    expect(event).toEqual({
      type: "identify",
      traits: { key: "segment_id_1", external_ids: "{broken", email: "a@example.com" },
      messageId: expect.stringMatching(/^csv-[0-9a-f]{32}$/),
    });
  });

  it("user_id from external_ids", async () => {
    const event = await readOneEvent('key,external_ids\nk1,"{""user_id"":[""u1"",""u2""],""anonymous_id"":[""a1""]}"\n');
    expect(event.userId).toBe("u1");
    expect(event.anonymousId).toBe("a1");
    expect(event.traits).not.toHaveProperty("email");
  });

  it("columns win over external_ids", async () => {
    const event = await readOneEvent(
      'key,external_ids,anonymous_id,user_id,email\nk1,"{""user_id"":[""u1""],""anonymous_id"":[""a1""],""email"":[""x@example.com""]}",a2,u2,y@example.com\n',
    );
    expect(event.userId).toBe("u2");
    expect(event.anonymousId).toBe("a2");
    expect((event.traits as Record<string, unknown>).email).toBe("y@example.com");
  });

  it("hashed email in external_ids is not an address", async () => {
    const hash = "a".repeat(64);
    const event = await readOneEvent(`key,external_ids\nk1,"{""email"":[""${hash}""]}"\n`);
    expect(event.traits).toEqual({ key: "k1", external_ids: { email: [hash] }, email_sha256: hash });
  });

  it("short rows accepted, long rows reported", async () => {
    const items = await readText("key,value,email\nk1,1\nk2,2,b@example.com,extra\n");
    expect(eventsOf(items).map((event) => (event.traits as Record<string, unknown>).key)).toEqual(["k1"]);
    expect(problemsOf(items).map((problem) => problem.origin.line)).toEqual([3]);
  });

  it("email-like trait columns kept as traits", async () => {
    const event = await readOneEvent("key,external_ids,email_verified\nk1,{},true\n");
    expect(event.traits).toEqual({ key: "k1", external_ids: {}, email_verified: "true" });
  });

  it("detected even with a table from the file name", async () => {
    const event = await readOneEvent("email\nb@example.com\n", { table: "audience_export" });
    expect(event).toEqual({ type: "identify", traits: { email: "b@example.com" }, messageId: expect.any(String) });
  });
});
