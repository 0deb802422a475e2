import { describe, expect, it } from "vitest";
import { deriveMessageId } from "../../src/inputs/message-id.js";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { eventsOf, linesOf, problemsOf, readFixture } from "./read.js";

/** Checks that a derived messageId is the hash of the rest of the event. */
function expectDerivedMessageId(event: SegmentEvent): void {
  const { messageId, ...rest } = event;
  expect(messageId).toBe(deriveMessageId(rest, "csv-"));
}

const PAGES = "warehouse/dbt-segment_example_segment_pages.csv";
const S3_ACTIONS = "warehouse/aws-s3-actions-sync-to-s3_2024-01-08T13-52-50-212Z.csv";
const RUDDERSTACK = "warehouse/rudderstack-profiles-sample/";

describe("warehouse pages export (dbt seed)", () => {
  it("row becomes a page call", async () => {
    const items = await readFixture(PAGES, { table: "pages" });
    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items)).toEqual([
      {
        type: "page",
        messageId: "ajs-9527e97fc714abe02a23b3d24cf09a36",
        anonymousId: "507f191e810c19729de860ea",
        userId: "97980cfea0067",
        receivedAt: "2015-02-23T22:28:55.000Z",
        sentAt: "2015-02-23T22:28:55.000Z",
        timestamp: "2015-02-23T22:28:55.000Z",
        properties: {
          url: "https://www.getdbt.com/",
          path: "/product",
          title: "Product",
          search: "?name=ferret",
          referrer: "https://www.google.com/",
        },
        context: {
          campaign: {
            source: "facebook",
            medium: "social",
            name: "autumn_collection_2015",
            term: "foo",
            content: "bar",
          },
          ip: "8.8.8.8",
          userAgent:
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36",
        },
      },
    ]);
    expect(linesOf(items)).toEqual([2]);
  });

  it("without a table the file is reported once", async () => {
    const items = await readFixture(PAGES);
    expect(eventsOf(items)).toEqual([]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe("unknown-csv-table");
    expect(problems[0]!.origin).toEqual({ input: PAGES, line: 1 });
    expect(problems[0]!.message).toContain(`--csv-table pages=${PAGES}`);
  });
});

describe("warehouse identifies export (UPPERCASE, single-quoted)", () => {
  it("reads every row as an identify call", async () => {
    const items = await readFixture(RUDDERSTACK + "identifies.csv", { table: "identifies" });
    expect(problemsOf(items)).toEqual([]);
    expect(linesOf(items)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const events = eventsOf(items);
    expect(events.every((event) => event.type === "identify")).toBe(true);
    events.forEach(expectDerivedMessageId);
  });

  it("row with empty traits", async () => {
    const [first] = eventsOf(await readFixture(RUDDERSTACK + "identifies.csv", { table: "identifies" }));
    expect(first).toEqual({
      type: "identify",
      anonymousId: "1f9af75b350d0346b4443a5471250ec3",
      userId: "d0bdaa1ce0c93542e2208205d30d19b2",
      timestamp: "2022-05-13T13:20:28.000Z",
      traits: {},
      messageId: first!.messageId,
    });
  });

  it("row with traits and device context", async () => {
    const events = eventsOf(await readFixture(RUDDERSTACK + "identifies.csv", { table: "identifies" }));
    const casey = events[4]!;
    expect(casey.anonymousId).toBe("20e54d59ab471ea53c8ab2d1acca93eb");
    expect(casey.userId).toBe("7dbfb93c8a783b7c360862c283862b08");
    expect(casey.timestamp).toBe("2022-11-18T04:43:24.000Z");
    expect(casey.traits).toEqual({
      email: "user03@example.net",
      address_country: "Spain",
      first_name: "Casey",
      last_name: "Testperson",
    });
    expect(casey.context).toEqual({ device: { type: "iOS", name: "Mac", manufacturer: "Apple" } });
  });

  it("duplicate rows share one messageId", async () => {
    const events = eventsOf(await readFixture(RUDDERSTACK + "identifies.csv", { table: "identifies" }));
    expect(events[5]!.messageId).toBe(events[6]!.messageId);
    expect(events[6]!.messageId).not.toBe(events[7]!.messageId);
  });
});

describe("warehouse per-event table (order_created)", () => {
  it("rows are track calls named after the table", async () => {
    const items = await readFixture(RUDDERSTACK + "order_created.csv", { table: "order_created" });
    expect(problemsOf(items)).toEqual([]);
    const [first, second] = eventsOf(items);
    expect(first!.type).toBe("track");
    expect(first!.event).toBe("order_created");
    expect(first!.anonymousId).toBe("77fdaab17de6c0ff9d92eda71f72131f");
    expect(first!.userId).toBe("3b7ec162500ba79785b1f7c4b8c7097d");
    expect(first!.timestamp).toBe("2023-05-13T13:25:24.000Z");
    expectDerivedMessageId(first!);
    expect(second!.event).toBe("order_created");
  });

  it("properties keep text, decode the doubly-wrapped JSON array", async () => {
    const [first] = eventsOf(await readFixture(RUDDERSTACK + "order_created.csv", { table: "order_created" }));
    const properties = first!.properties as Record<string, unknown>;
    expect(properties.total_price_usd).toBe("40");
    expect(properties.order_number).toBe("314");
    expect(properties.financial_status).toBe("paid");
    expect(properties.payment_details_credit_card_company).toBe("89fc0d6fe12b0e0c1af5c7a0373435a6");
    expect(properties).not.toHaveProperty("fulfillment_status");
    const products = properties.products as Record<string, unknown>[];
    expect(products).toHaveLength(1);
    expect(products[0]!.price).toBe("40.00");
    expect(products[0]!.grams).toBe(0);
    expect(products[0]!.duties).toEqual([]);
    expect(products[0]!.fulfillment_status).toBeNull();
  });

  it("convertNumbers turns numeric cells into numbers", async () => {
    const items = await readFixture(RUDDERSTACK + "order_created.csv", { table: "order_created", convertNumbers: true });
    const [first, second] = eventsOf(items);
    expect((first!.properties as Record<string, unknown>).total_price_usd).toBe(40);
    expect((first!.properties as Record<string, unknown>).order_number).toBe(314);
    expect((second!.properties as Record<string, unknown>).total_price_usd).toBe(106.98);
  });
});

describe("warehouse pages and tracks (context columns)", () => {
  it("pages rebuild the campaign context", async () => {
    const items = await readFixture(RUDDERSTACK + "pages.csv", { table: "pages" });
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events).toHaveLength(6);
    expect(events[0]).toEqual({
      type: "page",
      anonymousId: "1f9af75b350d0346b4443a5471250ec3",
      timestamp: "2022-05-13T12:42:38.000Z",
      properties: {},
      context: { campaign: { name: "Newsletter + QR Blog", medium: "email_action", source: "mktemail" } },
      messageId: events[0]!.messageId,
    });
    expect(events[2]).not.toHaveProperty("context");
    expect((events[3]!.context as { campaign: { name: string } }).campaign.name).toBe("website  ");
  });

  it("tracks keep an unknown context column under its name", async () => {
    const items = await readFixture(RUDDERSTACK + "tracks.csv", { table: "tracks" });
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events).toHaveLength(7);
    expect(events[0]!.context).toEqual({ session_id: "1668401002896" });
    expect(events[4]!.context).toEqual({ session_id: "1668810730", campaign: { source: "email" } });
    expect(events[0]).not.toHaveProperty("event");
    expect(events[4]!.messageId).toBe(events[5]!.messageId);
  });
});

describe("AWS S3 (Actions) CSV", () => {
  it("row becomes the track call it was written from", async () => {
    const items = await readFixture(S3_ACTIONS);
    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items)).toEqual([
      {
        type: "track",
        event: "Custom Event 1",
        userId: "user_id_1",
        anonymousId: "anonymous_id_1",
        timestamp: "2024-01-08T13:52:50.212Z",
        messageId: "aaa-bbb-ccc",
        integrations: {},
        properties: {
          prop_str: "Hello String!",
          prop_num: 123.45,
          prop_bool: true,
          prop_datetime: "2024-01-08T13:52:50.212Z",
          prop_date: "2024-01-08",
          prop_obj: { key1: "value1", key2: "value2" },
          prop_arr: ["value1", "value2"],
          custom_field_1: "Custom Field Value 1",
          custom_field_2: "Custom Field Value 2",
          audience_name: "audience_name_1",
          audience_id: "audience_id_1",
          audience_space_id: "space_id_1",
          "Custom Field 1": "Custom Field Value 1",
          "Custom Field 2": "Custom Field Value 2",
          audience_action: "true",
        },
        context: {
          traits: { first_name: "Jamie", last_name: "Sample", email: "jdoe@example.com" },
          personas: { computation_key: "audience_name_1", computation_id: "audience_id_1", space_id: "space_id_1" },
        },
      },
    ]);
    expect(linesOf(items)).toEqual([2]);
  });

  it("table from the file name does not change it", async () => {
    const items = await readFixture(S3_ACTIONS, { table: "tracks" });
    expect(eventsOf(items)[0]!.event).toBe("Custom Event 1");
  });
});

describe("Engage downloads", () => {
  const luke = {
    anonymous_id: ["anon_1"],
    email: ["luke@example.com", "chosen_one@example.com"],
  };
  const green = { anonymous_id: ["anon_2"], email: ["green_master@example.com"] };

  it("audience format a: curly quotes repaired", async () => {
    const items = await readFixture("engage/audience_csv_format_a.csv", { table: "audience_csv_format_a" });
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events).toEqual([
      {
        type: "identify",
        anonymousId: "anon_1",
        traits: { key: "segment_id_1", external_ids: luke, email: "luke@example.com" },
        messageId: events[0]!.messageId,
      },
      {
        type: "identify",
        anonymousId: "anon_2",
        traits: { key: "segment_id_2", external_ids: green, email: "green_master@example.com" },
        messageId: events[1]!.messageId,
      },
    ]);
    events.forEach(expectDerivedMessageId);
    expect(linesOf(items)).toEqual([2, 3]);
  });

  it("audience format b: short last row read", async () => {
    const items = await readFixture("engage/audience_csv_format_b.csv");
    expect(problemsOf(items)).toEqual([]);
    const [first, second] = eventsOf(items);
    expect(first!.traits).toEqual({
      key: "segment_id_1",
      external_ids: luke,
      email: "luke@example.com",
      email_1: "chosen_one@example.com",
    });
    expect(first!.anonymousId).toBe("anon_1");
    expect(second!.traits).toEqual({ key: "segment_id_2", external_ids: green, email: "green_master@example.com" });
    expect(second!.anonymousId).toBe("anon_2");
  });

  it("audience format c: hashed emails", async () => {
    const items = await readFixture("engage/audience_csv_format_c.csv", { table: "audience_csv_format_c" });
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events.map((event) => event.traits)).toEqual([
      { email_sha256: "A111F4879EC86CA6DE45B23732CB9CC5DA7EB381196377BC4933E4E1F50C7275" },
      { email_sha256: "523D49004682AB1BFDCAB9718B2595F24102C8D2162F6A450C68A5F95DCC908D" },
    ]);
    expect(events.every((event) => event.type === "identify")).toBe(true);
    expect(linesOf(items)).toEqual([2, 3]);
  });

  it("trait format a: value kept as text", async () => {
    const events = eventsOf(await readFixture("engage/trait_csv_format_a.csv"));
    expect(events.map((event) => (event.traits as Record<string, unknown>).value)).toEqual(["34", "23"]);
  });

  it("trait format b: value converted with convertNumbers", async () => {
    const items = await readFixture("engage/trait_csv_format_b.csv", { convertNumbers: true });
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events.map((event) => (event.traits as Record<string, unknown>).value)).toEqual([34, 23]);
    expect((events[0]!.traits as Record<string, unknown>).email_1).toBe("chosen_one@example.com");
  });

  it("trait format c: one row per email", async () => {
    const items = await readFixture("engage/trait_csv_format_c.csv");
    expect(problemsOf(items)).toEqual([]);
    const events = eventsOf(items);
    expect(events.map((event) => (event.traits as Record<string, unknown>).email)).toEqual([
      "luke@example.com",
      "chosen_one@example.com",
      "green_master@example.com",
    ]);
    expect(events.map((event) => event.anonymousId)).toEqual(["anon_1", "anon_1", "anon_2"]);
    expect(new Set(events.map((event) => event.messageId)).size).toBe(3);
    expect(linesOf(items)).toEqual([2, 3, 4]);
  });
});
