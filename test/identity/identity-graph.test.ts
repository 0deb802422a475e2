import { afterEach, describe, expect, it } from "vitest";
import { IdentityGraph } from "../../src/identity/index.js";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { eventWithMessageId, readEvents } from "./fixtures.js";

const graphs: IdentityGraph[] = [];

function graphOf(...files: SegmentEvent[][]): IdentityGraph {
  const graph = new IdentityGraph();
  graphs.push(graph);
  for (const events of files) {
    for (const event of events) graph.observe(event);
  }
  return graph;
}

afterEach(() => {
  for (const graph of graphs.splice(0)) graph.close();
});

describe("identify before and after track events", () => {
  const visit = readEvents("browser-visit.jsonl");

  it("anonymous pages before identify get the email", () => {
    const graph = graphOf(visit);
    expect(graph.resolveEmail(eventWithMessageId(visit, "ajs-next-0001"))).toBe("Ada.Lovelace@example.com");
    expect(graph.resolveEmail(eventWithMessageId(visit, "ajs-next-0002"))).toBe("Ada.Lovelace@example.com");
  });

  it("server track with userId only gets the email", () => {
    const graph = graphOf(visit);
    expect(graph.resolveEmail(eventWithMessageId(visit, "node-next-0005"))).toBe("Ada.Lovelace@example.com");
  });

  it("keeps the email's case as written", () => {
    const graph = graphOf(visit);
    expect(graph.resolveEmail(eventWithMessageId(visit, "ajs-next-0004"))).toBe("Ada.Lovelace@example.com");
  });

  it("visitor who never identifies stays unresolved", () => {
    const graph = graphOf(visit);
    expect(graph.resolveEmail(eventWithMessageId(visit, "ajs-next-0006"))).toBeUndefined();
  });

  it("identify after the track events in one file", () => {
    const server = readEvents("server-tracks.jsonl");
    const graph = graphOf(server);
    expect(graph.resolveEmail(eventWithMessageId(server, "api-1003"))).toBe("hedy@example.com");
  });

  it("gives the same answers for reversed input", () => {
    const forward = graphOf(visit);
    const backward = graphOf([...visit].reverse());
    for (const event of visit) {
      expect(backward.resolveEmail(event)).toBe(forward.resolveEmail(event));
    }
  });

  it("does not change the event", () => {
    const events = readEvents("browser-visit.jsonl");
    const before = JSON.stringify(events);
    const graph = graphOf(events);
    for (const event of events) graph.resolveEmail(event);
    expect(JSON.stringify(events)).toBe(before);
  });
});

describe("identify in another file", () => {
  const server = readEvents("server-tracks.jsonl");
  const elsewhere = readEvents("identify-elsewhere.jsonl");

  it("resolves a userId identified in the other file", () => {
    const graph = graphOf(server, elsewhere);
    expect(graph.resolveEmail(eventWithMessageId(server, "api-1001"))).toBe("grace@example.com");
  });

  it("numeric userId matches its string form", () => {
    const graph = graphOf(server, elsewhere);
    expect(graph.resolveEmail(eventWithMessageId(server, "api-1002"))).toBe("numeric@example.com");
    expect(graph.resolveId(4242)).toBe("numeric@example.com");
    expect(graph.resolveId("4242")).toBe("numeric@example.com");
  });

  it("userId never identified stays unresolved", () => {
    const graph = graphOf(server, elsewhere);
    expect(graph.resolveEmail(eventWithMessageId(server, "api-1005"))).toBeUndefined();
  });

  it("stores no id seen alone without email", () => {
    const graph = graphOf(server);
    // u-201 is identified in the file; u-200, 4242 and u-202 only appear alone on track events.
    expect(graph.stats().ids).toBe(1);
  });
});

describe("ids with an email", () => {
  it("linked ids without an email count as none", () => {
    const graph = graphOf(readEvents("s3-archive-without-emails.jsonl"));

    expect(graph.stats().ids).toBeGreaterThan(0);
    expect(graph.stats().idsWithEmail).toBe(0);
  });

  it("counts ids reached through a link or an alias", () => {
    const graph = graphOf([]);
    graph.observeFacts({ userId: "user-1", anonymousId: "anonymous-1", aliasOf: undefined, email: undefined, time: 1, isAlias: false });
    graph.observeFacts({ userId: "user-2", anonymousId: "anonymous-2", aliasOf: undefined, email: undefined, time: 1, isAlias: false });
    graph.observeEmail("user-1", undefined, "one@example.com", 2);
    graph.observeFacts({ userId: "user-3", anonymousId: undefined, aliasOf: "previous-3", email: undefined, time: 3, isAlias: true });
    graph.observeEmail("previous-3", undefined, "three@example.com", 4);

    expect(graph.stats().ids).toBe(6);
    // user-1 by its email, anonymous-1 by its link to user-1, user-3 and previous-3 by their alias.
    expect(graph.stats().idsWithEmail).toBe(4);
  });

  it("count follows later observations", () => {
    const graph = graphOf([]);
    graph.observeFacts({ userId: "user-1", anonymousId: "anonymous-1", aliasOf: undefined, email: undefined, time: 1, isAlias: false });
    expect(graph.stats().idsWithEmail).toBe(0);

    graph.observeEmail(undefined, "anonymous-1", "one@example.com", 2);
    expect(graph.stats().idsWithEmail).toBe(2);
  });
});

describe("aliases", () => {
  const aliases = readEvents("aliases.jsonl");

  it("follows a chain to the identified userId", () => {
    const graph = graphOf(aliases);
    expect(graph.resolveEmail(eventWithMessageId(aliases, "ajs-3001"))).toBe("linus@example.com");
    expect(graph.resolveId("u-300")).toBe("linus@example.com");
  });

  it("gives the previousId's email to the new userId", () => {
    const graph = graphOf(aliases);
    expect(graph.resolveEmail(eventWithMessageId(aliases, "api-3007"))).toBe("margaret@example.com");
  });

  it("resolves the same when the alias comes last", () => {
    const reordered = [...aliases.filter((event) => event["type"] !== "alias"), ...aliases.filter((event) => event["type"] === "alias")];
    const graph = graphOf(reordered);
    expect(graph.resolveId("anon-aa11")).toBe("linus@example.com");
    expect(graph.resolveId("u-400")).toBe("margaret@example.com");
  });

  it("link of one aliased id serves the whole set", () => {
    const graph = graphOf([
      { type: "alias", previousId: "legacy-id", userId: "u-77", timestamp: "2024-01-01T00:00:00Z" },
      { type: "track", userId: "u-77", anonymousId: "tablet", timestamp: "2024-01-02T00:00:00Z" },
      { type: "identify", anonymousId: "tablet", traits: { email: "tablet@example.com" }, timestamp: "2024-01-03T00:00:00Z" },
    ]);
    expect(graph.resolveId("legacy-id")).toBe("tablet@example.com");
  });

  it("counts alias calls", () => {
    const graph = graphOf(aliases);
    expect(graph.stats().aliases).toBe(3);
  });

  it("merged sets keep the latest email and count a conflict", () => {
    const graph = graphOf([
      { type: "identify", userId: "old-account", traits: { email: "old@example.com" }, timestamp: "2024-01-01T00:00:00Z" },
      { type: "identify", userId: "new-account", traits: { email: "new@example.com" }, timestamp: "2024-02-01T00:00:00Z" },
      { type: "alias", previousId: "old-account", userId: "new-account", timestamp: "2024-03-01T00:00:00Z" },
    ]);
    expect(graph.resolveId("old-account")).toBe("new@example.com");
    expect(graph.stats().conflicts).toBe(1);
  });
});

describe("conflicts", () => {
  const conflicts = readEvents("conflicts.jsonl");

  it("latest timestamp wins whatever the order", () => {
    const graph = graphOf(conflicts);
    expect(graph.resolveId("u-500")).toBe("new@example.com");
  });

  it("counts only case-insensitive differences", () => {
    const graph = graphOf(conflicts);
    // u-500: old@ disagrees with new@ (1); NEW@ matches new@ (0). u-600: second@ disagrees (1).
    expect(graph.stats().conflicts).toBe(2);
  });

  it("equal timestamps go to the later observation", () => {
    const graph = graphOf(conflicts);
    expect(graph.resolveId("u-600")).toBe("second@example.com");
  });

  it("counts an email field that is not an email", () => {
    const graph = graphOf(conflicts);
    expect(graph.stats().invalidEmails).toBe(1);
    expect(graph.resolveId("u-700")).toBeUndefined();
  });

  it("falls back to receivedAt without timestamp", () => {
    const graph = graphOf([
      { type: "identify", userId: "u-1", traits: { email: "later@example.com" }, receivedAt: "2024-05-01T00:00:00Z" },
      { type: "identify", userId: "u-1", traits: { email: "earlier@example.com" }, originalTimestamp: "2024-04-01T00:00:00Z" },
    ]);
    expect(graph.resolveId("u-1")).toBe("later@example.com");
  });
});

describe("links between userId and anonymousId", () => {
  it("shared browser does not merge two users", () => {
    const graph = graphOf([
      { type: "identify", userId: "alice", anonymousId: "shared-laptop", traits: { email: "alice@example.com" }, timestamp: "2024-01-01T00:00:00Z" },
      { type: "identify", userId: "bob", anonymousId: "shared-laptop", traits: { email: "bob@example.com" }, timestamp: "2024-01-02T00:00:00Z" },
    ]);
    expect(graph.resolveId("alice")).toBe("alice@example.com");
    expect(graph.resolveId("bob")).toBe("bob@example.com");
    expect(graph.resolveEmail({ type: "track", userId: "alice", anonymousId: "shared-laptop" })).toBe("alice@example.com");
    expect(graph.resolveEmail({ type: "page", anonymousId: "shared-laptop" })).toBe("bob@example.com");
  });

  it("device seen with userId gets the email identified elsewhere", () => {
    const graph = graphOf([
      { type: "track", userId: "u-9", anonymousId: "phone", event: "Opened", timestamp: "2024-01-05T00:00:00Z" },
      { type: "identify", userId: "u-9", anonymousId: "laptop", traits: { email: "nine@example.com" }, timestamp: "2024-01-01T00:00:00Z" },
    ]);
    expect(graph.resolveEmail({ type: "screen", anonymousId: "phone" })).toBe("nine@example.com");
  });

  it("event's own anonymousId beats the userId's link", () => {
    const graph = graphOf([
      { type: "track", userId: "u-10", anonymousId: "device-a", timestamp: "2024-01-05T00:00:00Z" },
      { type: "identify", anonymousId: "device-a", traits: { email: "form@example.com" }, timestamp: "2024-01-01T00:00:00Z" },
      { type: "identify", anonymousId: "device-b", traits: { email: "other@example.com" }, timestamp: "2024-01-01T00:00:00Z" },
    ]);
    expect(graph.resolveEmail({ type: "track", userId: "u-10", anonymousId: "device-b" })).toBe("other@example.com");
  });
});

describe("email fields read", () => {
  const cases: Array<[string, SegmentEvent, string | undefined]> = [
    ["identify traits.email", { type: "identify", userId: "x", traits: { email: "a@example.com" } }, "a@example.com"],
    ["identify context.traits.email", { type: "identify", userId: "x", context: { traits: { email: "b@example.com" } } }, "b@example.com"],
    ["track context.traits.email", { type: "track", userId: "x", context: { traits: { email: "c@example.com" } } }, "c@example.com"],
    ["track properties.email", { type: "track", userId: "x", properties: { email: "d@example.com" } }, "d@example.com"],
    ["top-level email", { type: "track", userId: "x", email: "e@example.com" }, "e@example.com"],
    ["group traits.email is the group's", { type: "group", userId: "x", groupId: "g", traits: { email: "billing@example.com" } }, undefined],
    ["blank userId", { type: "identify", userId: "  ", traits: { email: "f@example.com" } }, undefined],
  ];

  it.each(cases)("%s", (_name, event, expected) => {
    const graph = graphOf([event]);
    expect(graph.resolveId("x")).toBe(expected);
  });
});

describe("real archives", () => {
  it("spec examples resolve by userId and alias", () => {
    const events = readEvents("spec-complete-examples.jsonl");
    const graph = graphOf(events);
    const reportSubmitted = events.find((event) => event["event"] === "Report Submitted")!;
    expect(graph.resolveEmail(reportSubmitted)).toBe("peter@example.com");
    // The alias joins 39239-… to 507f191e81, which the same call links to the anonymousId
    // 507f191e810c19729de860ea, identified as peter@example.com.
    expect(graph.resolveId("39239-239239-239239-23923")).toBe("peter@example.com");
  });

  it("S3 archive without identify stays unresolved", () => {
    const events = readEvents("s3-archive-without-emails.jsonl");
    const graph = graphOf(events);
    for (const event of events) expect(graph.resolveEmail(event)).toBeUndefined();
  });

  it("numeric userId of a browser request body", () => {
    const [event] = readEvents("ajs-track-numeric-user-id.json");
    const graph = graphOf([{ type: "identify", userId: "1234567", traits: { email: "shopper@example.com" } }]);
    expect(graph.resolveEmail(event!)).toBe("shopper@example.com");
  });
});

describe("resolved ids", () => {
  const identifies: SegmentEvent[] = [
    { type: "identify", userId: "u-1", traits: { email: "one@example.com" } },
    { type: "identify", userId: "u-2", anonymousId: "a-2", traits: { email: "two@example.com" } },
    { type: "page", userId: "u-3", anonymousId: "a-3" },
  ];

  function resolvedIdsOf(events: readonly SegmentEvent[], maxMemoryEntries?: number): ReturnType<IdentityGraph["resolvedIds"]> {
    const graph = new IdentityGraph(maxMemoryEntries === undefined ? {} : { maxMemoryEntries });
    graphs.push(graph);
    for (const event of events) graph.observe(event);
    return graph.resolvedIds();
  }

  it("count skips ids without an email", () => {
    expect(resolvedIdsOf(identifies).idsWithEmail).toBe(3);
  });

  it("digest ignores the order of the events", () => {
    expect(resolvedIdsOf([...identifies].reverse()).digest).toBe(resolvedIdsOf(identifies).digest);
  });

  it("digest is the same for spilled ids", () => {
    expect(resolvedIdsOf(identifies, 1).digest).toBe(resolvedIdsOf(identifies).digest);
  });

  it("digest changes when an id resolves", () => {
    const linked = [...identifies, { type: "identify", userId: "u-3", traits: { email: "three@example.com" } }];

    expect(resolvedIdsOf(linked).idsWithEmail).toBe(5);
    expect(resolvedIdsOf(linked).digest).not.toBe(resolvedIdsOf(identifies).digest);
  });

  it("digest ignores a changed email", () => {
    const changed = [...identifies, { type: "identify", userId: "u-1", timestamp: "2030-01-01T00:00:00Z", traits: { email: "new@example.com" } }];

    expect(resolvedIdsOf(changed).digest).toBe(resolvedIdsOf(identifies).digest);
  });
});

describe("options", () => {
  it("rejects a maxMemoryEntries of zero", () => {
    expect(() => new IdentityGraph({ maxMemoryEntries: 0 })).toThrow(/maxMemoryEntries must be a positive integer, got 0/);
  });
});

describe("properties.email on untimed events", () => {
  // An identify without a readable time had the time -Infinity, below the handicapped time of any
  // timed properties.email, so an invitee's email became the user's.
  it("loses to an untimed identify", () => {
    const graph = graphOf([
      { type: "identify", userId: "u-untimed", traits: { email: "owner@example.com" } },
      { type: "track", userId: "u-untimed", event: "Invite Sent", properties: { email: "invitee@example.org" }, timestamp: "2024-05-01T10:00:00.000Z" },
    ]);

    expect(graph.resolveEmail({ userId: "u-untimed" })).toBe("owner@example.com");
  });

  it("loses to an identify when both are untimed", () => {
    const graph = graphOf([
      { type: "identify", userId: "u-untimed", traits: { email: "owner@example.com" } },
      { type: "track", userId: "u-untimed", event: "Invite Sent", properties: { email: "invitee@example.org" } },
    ]);

    expect(graph.resolveEmail({ userId: "u-untimed" })).toBe("owner@example.com");
  });

  it("untimed identify loses to a timed one", () => {
    const graph = graphOf([
      { type: "identify", userId: "u-untimed", traits: { email: "new@example.com" }, timestamp: "2024-05-01T10:00:00.000Z" },
      { type: "identify", userId: "u-untimed", traits: { email: "old@example.com" } },
    ]);

    expect(graph.resolveEmail({ userId: "u-untimed" })).toBe("new@example.com");
  });
});
