import { describe, expect, it } from "vitest";
import { eventsOf, problemsOf, readOneEvent, readText } from "./read.js";

describe("warehouse fixed columns", () => {
  it("map to their Segment fields", async () => {
    const event = await readOneEvent(
      "id,anonymous_id,user_id,received_at,sent_at,timestamp,original_timestamp,event,event_text\n" +
        "m1,a1,u1,2024-01-02 03:04:05,2024-01-02 03:04:04,2024-01-02 03:04:03,2024-01-02 03:04:02,order_completed,Order Completed\n",
      { table: "tracks" },
    );
    expect(event).toEqual({
      type: "track",
      messageId: "m1",
      anonymousId: "a1",
      userId: "u1",
      receivedAt: "2024-01-02T03:04:05.000Z",
      sentAt: "2024-01-02T03:04:04.000Z",
      timestamp: "2024-01-02T03:04:03.000Z",
      originalTimestamp: "2024-01-02T03:04:02.000Z",
      event: "Order Completed",
      properties: {},
    });
  });

  it("event slug names the event without event_text", async () => {
    const event = await readOneEvent("id,event\nm1,order_completed\n", { table: "tracks" });
    expect(event.event).toBe("order_completed");
  });

  it("loader columns are dropped", async () => {
    const event = await readOneEvent("id,uuid,uuid_ts,loaded_at,plan\nm1,123,2024-01-01,2024-01-01,pro\n", {
      table: "tracks",
    });
    expect(event).toEqual({ type: "track", messageId: "m1", properties: { plan: "pro" } });
  });

  it("UPPERCASE headers are lower-cased", async () => {
    const event = await readOneEvent("ID,USER_ID,CONTEXT_IP,PLAN_NAME\nm1,u1,192.0.2.1,Pro\n", { table: "TRACKS" });
    expect(event).toEqual({
      type: "track",
      messageId: "m1",
      userId: "u1",
      context: { ip: "192.0.2.1" },
      properties: { plan_name: "Pro" },
    });
  });

  it("header cells are trimmed and unwrapped", async () => {
    const event = await readOneEvent(" 'ID' , user_id ,,\nm1,u1,x,\n", { table: "tracks" });
    expect(event).toEqual({ type: "track", messageId: "m1", userId: "u1", properties: { column_3: "x" } });
  });
});

describe("warehouse tables", () => {
  it("identifies: leftover columns are traits", async () => {
    const event = await readOneEvent("id,user_id,email,plan\nm1,u1,a@example.com,pro\n", { table: "identifies" });
    expect(event).toEqual({
      type: "identify",
      messageId: "m1",
      userId: "u1",
      traits: { email: "a@example.com", plan: "pro" },
    });
  });

  it("users: id is the userId", async () => {
    const event = await readOneEvent("id,received_at,email\nu42,2024-01-01 00:00:00,a@example.com\n", {
      table: "users",
    });
    expect(event.type).toBe("identify");
    expect(event.userId).toBe("u42");
    expect(event.receivedAt).toBe("2024-01-01T00:00:00.000Z");
    expect(event.traits).toEqual({ email: "a@example.com" });
    expect(event.messageId).toMatch(/^csv-[0-9a-f]{32}$/);
  });

  it("pages: name and category are top-level", async () => {
    const event = await readOneEvent("id,name,category,url\nm1,Pricing,Docs,https://example.com/pricing\n", {
      table: "pages",
    });
    expect(event).toEqual({
      type: "page",
      messageId: "m1",
      name: "Pricing",
      category: "Docs",
      properties: { url: "https://example.com/pricing" },
    });
  });

  it("screens: rows are screen calls", async () => {
    const event = await readOneEvent("id,name,duration\nm1,Home,3\n", { table: "screens" });
    expect(event).toEqual({ type: "screen", messageId: "m1", name: "Home", properties: { duration: "3" } });
  });

  it("tracks: name is a property", async () => {
    const event = await readOneEvent("id,event_text,name\nm1,Signed Up,Ada\n", { table: "tracks" });
    expect(event.properties).toEqual({ name: "Ada" });
  });

  it("groups: group_id and traits", async () => {
    const event = await readOneEvent("id,user_id,group_id,name,employees\nm1,u1,g1,Acme,12\n", { table: "groups" });
    expect(event).toEqual({
      type: "group",
      messageId: "m1",
      userId: "u1",
      groupId: "g1",
      traits: { name: "Acme", employees: "12" },
    });
  });

  it("aliases: previous_id", async () => {
    const event = await readOneEvent("id,user_id,previous_id\nm1,u1,anon-1\n", { table: "aliases" });
    expect(event).toEqual({ type: "alias", messageId: "m1", userId: "u1", previousId: "anon-1", properties: {} });
  });

  it("per-event table: event_text wins over the table name", async () => {
    const event = await readOneEvent("id,event,event_text,total\nm1,order_completed,Order Completed,10\n", {
      table: "order_completed",
    });
    expect(event).toEqual({ type: "track", messageId: "m1", event: "Order Completed", properties: { total: "10" } });
  });

  it("per-event table without event columns uses the table name", async () => {
    const event = await readOneEvent("id,total\nm1,10\n", { table: "Order_Completed" });
    expect(event.event).toBe("order_completed");
  });

  it("type option overrides the table type", async () => {
    const event = await readOneEvent("id,email\nm1,a@example.com\n", { table: "tracks", type: "identify" });
    expect(event).toEqual({ type: "identify", messageId: "m1", traits: { email: "a@example.com" } });
  });

  it("no table: type option chooses the type", async () => {
    const event = await readOneEvent("id,user_id,email\nm1,u1,a@example.com\n", { type: "identify" });
    expect(event).toEqual({ type: "identify", messageId: "m1", userId: "u1", traits: { email: "a@example.com" } });
  });

  it("no table: an event column means track", async () => {
    const event = await readOneEvent("id,event_text,user_id\nm1,Signed Up,u1\n");
    expect(event).toEqual({ type: "track", messageId: "m1", event: "Signed Up", userId: "u1", properties: {} });
  });

  it("no table and no hint: file reported once", async () => {
    const items = await readText("id,user_id\nm1,u1\nm2,u2\n", { input: "export-2024.csv" });
    expect(eventsOf(items)).toEqual([]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe("unknown-csv-table");
    expect(problems[0]!.origin).toEqual({ input: "export-2024.csv", line: 1 });
  });

  it("unknown table message names the options", async () => {
    const [problem] = problemsOf(await readText("id,user_id\nm1,u1\n", { input: "exports/export-2024.csv" }));
    expect(problem!.message).toContain("its file name, export-2024.csv, is not a table name");
    expect(problem!.message).toContain("--csv-table <table>");
    expect(problem!.message).toContain("tracks, identifies, users, pages, screens, groups, aliases");
    expect(problem!.message).toContain("--csv-type <type>");
    expect(problem!.message).toContain("track, identify, page, screen, group, alias");
    expect(problem!.message).toContain("rename the file after its table");
  });

  it("unknown table on stdin", async () => {
    const [problem] = problemsOf(await readText("id,user_id\nm1,u1\n", { input: "-" }));
    expect(problem!.message).toContain("stdin has no file name");
    expect(problem!.message).not.toContain("rename the file");
  });

  it("unknown table: header alone not reported", async () => {
    expect(await readText("id,user_id\n")).toEqual([]);
    expect(await readText("id,user_id\n\n,\n  \n")).toEqual([]);
  });

  it("unknown table: reported after blank rows", async () => {
    const items = await readText("\nid,user_id\n\n,\nm1,u1\n");
    expect(items.map((item) => [item.kind, item.origin.line])).toEqual([["problem", 2]]);
  });
});

describe("warehouse context columns", () => {
  it("spec fields are rebuilt from the dictionary", async () => {
    const header = [
      "id",
      "context_ip",
      "context_locale",
      "context_timezone",
      "context_user_agent",
      "context_group_id",
      "context_library_name",
      "context_library_version",
      "context_page_path",
      "context_page_referrer",
      "context_page_search",
      "context_page_title",
      "context_page_url",
      "context_campaign_name",
      "context_campaign_source",
      "context_campaign_medium",
      "context_campaign_term",
      "context_campaign_content",
      "context_app_name",
      "context_app_version",
      "context_app_build",
      "context_app_namespace",
      "context_device_id",
      "context_device_advertising_id",
      "context_device_ad_tracking_enabled",
      "context_device_manufacturer",
      "context_device_model",
      "context_device_name",
      "context_device_type",
      "context_device_token",
      "context_os_name",
      "context_os_version",
      "context_network_bluetooth",
      "context_network_carrier",
      "context_network_cellular",
      "context_network_wifi",
      "context_screen_width",
      "context_screen_height",
      "context_screen_density",
      "context_referrer_id",
      "context_referrer_type",
      "context_location_city",
      "context_traits_email",
      "context_traits_first_name",
      "context_session_id",
      "context_user_agent_data_mobile",
    ];
    const row = header.map((name, index) => (index === 0 ? "m1" : `v${index}`));
    const event = await readOneEvent(header.join(",") + "\n" + row.join(",") + "\n", { table: "tracks" });
    expect(event.context).toEqual({
      ip: "v1",
      locale: "v2",
      timezone: "v3",
      userAgent: "v4",
      groupId: "v5",
      library: { name: "v6", version: "v7" },
      page: { path: "v8", referrer: "v9", search: "v10", title: "v11", url: "v12" },
      campaign: { name: "v13", source: "v14", medium: "v15", term: "v16", content: "v17" },
      app: { name: "v18", version: "v19", build: "v20", namespace: "v21" },
      device: {
        id: "v22",
        advertisingId: "v23",
        adTrackingEnabled: "v24",
        manufacturer: "v25",
        model: "v26",
        name: "v27",
        type: "v28",
        token: "v29",
      },
      os: { name: "v30", version: "v31" },
      network: { bluetooth: "v32", carrier: "v33", cellular: "v34", wifi: "v35" },
      screen: { width: "v36", height: "v37", density: "v38" },
      referrer: { id: "v39", type: "v40" },
      location: { city: "v41" },
      traits: { email: "v42", first_name: "v43" },
      session_id: "v44",
      user_agent_data_mobile: "v45",
    });
  });

  it("context values follow convertNumbers", async () => {
    const event = await readOneEvent("id,context_screen_width,context_session_id\nm1,1280,1668810730\n", {
      table: "tracks",
      convertNumbers: true,
    });
    expect(event.context).toEqual({ screen: { width: 1280 }, session_id: 1668810730 });
  });
});

describe("warehouse cells", () => {
  it("single-quoted cells are unwrapped, '' is absent", async () => {
    const event = await readOneEvent("ID,USER_ID,PLAN,NOTE\n'm1','','pro','it''s'\n", { table: "tracks" });
    expect(event).toEqual({ type: "track", messageId: "m1", properties: { plan: "pro", note: "it''s" } });
  });

  it("single quotes kept when the file does not wrap cells", async () => {
    const items = await readText("id,plan,note\nm1,pro,plain\nm2,pro,'quoted'\n", { table: "tracks" });
    expect(eventsOf(items)[1]!.properties).toEqual({ plan: "pro", note: "'quoted'" });
  });

  it("empty cells are absent", async () => {
    const event = await readOneEvent("id,user_id,plan,seats\nm1,,,3\n", { table: "tracks" });
    expect(event).toEqual({ type: "track", messageId: "m1", properties: { seats: "3" } });
  });

  it("zone-less timestamps are UTC", async () => {
    const event = await readOneEvent("id,timestamp\nm1,2015-02-23 22:28:55\n", { table: "tracks" });
    expect(event.timestamp).toBe("2015-02-23T22:28:55.000Z");
  });

  it("epoch seconds and milliseconds by magnitude", async () => {
    const items = await readText("id,timestamp,received_at\nm1,1668810730,1668401002896\n", { table: "tracks" });
    const [event] = eventsOf(items);
    expect(event!.timestamp).toBe("2022-11-18T22:32:10.000Z");
    expect(event!.receivedAt).toBe("2022-11-14T04:43:22.896Z");
  });

  it("timestamp-like properties stay text", async () => {
    const event = await readOneEvent("id,ordered_at\nm1,2015-02-23 22:28:55\n", { table: "tracks" });
    expect(event.properties).toEqual({ ordered_at: "2015-02-23 22:28:55" });
  });

  it("JSON-looking cells become arrays and objects", async () => {
    const event = await readOneEvent('id,tags,address,label\nm1,"[""a"",""b""]","{""city"":""Paris""}",[draft]\n', {
      table: "tracks",
    });
    expect(event.properties).toEqual({ tags: ["a", "b"], address: { city: "Paris" }, label: "[draft]" });
  });

  it("numbers kept as written by default", async () => {
    const event = await readOneEvent("id,price,zip\nm1,10.50,02134\n", { table: "tracks" });
    expect(event.properties).toEqual({ price: "10.50", zip: "02134" });
  });

  it("numbers converted with convertNumbers, ids stay text", async () => {
    const event = await readOneEvent("id,user_id,price,zip,big\n123,456,10.50,02134,12345678901234567890\n", {
      table: "tracks",
      convertNumbers: true,
    });
    expect(event).toEqual({
      type: "track",
      messageId: "123",
      userId: "456",
      properties: { price: 10.5, zip: "02134", big: "12345678901234567890" },
    });
  });

  it("__proto__ column stays an own property", async () => {
    const event = await readOneEvent("id,__proto__,context___proto__\nm1,x,y\n", { table: "tracks" });
    expect(Object.hasOwn(event.properties as object, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getPrototypeOf(event.properties)).toBe(Object.prototype);
  });
});

describe("derived messageId", () => {
  it("rows without an id get a deterministic one", async () => {
    const text = "user_id,plan\nu1,pro\nu2,pro\nu1,pro\n";
    const first = eventsOf(await readText(text, { table: "tracks" }));
    const second = eventsOf(await readText(text, { table: "tracks" }));
    expect(first.map((event) => event.messageId)).toEqual(second.map((event) => event.messageId));
    expect(first[0]!.messageId).toMatch(/^csv-[0-9a-f]{32}$/);
    expect(first[0]!.messageId).not.toBe(first[1]!.messageId);
    expect(first[0]!.messageId).toBe(first[2]!.messageId);
  });

  it("empty id cell gets a derived one", async () => {
    const event = await readOneEvent("id,user_id\n,u1\n", { table: "tracks" });
    expect(event.messageId).toMatch(/^csv-[0-9a-f]{32}$/);
  });

  it("does not depend on the input name or line", async () => {
    const first = await readOneEvent("user_id\nu1\n", { table: "tracks", input: "a.csv" });
    const second = await readOneEvent("user_id\n\n\nu1\n", { table: "tracks", input: "b.csv" });
    expect(first.messageId).toBe(second.messageId);
  });
});

describe("table named by the file name, with a type column", () => {
  it("a per-event table keeps its type property", async () => {
    const items = await readText("id,user_id,type,total\nm1,u1,digital,10\n", { table: "order_completed", tableFromFileName: true });
    const [event] = eventsOf(items);

    expect(event?.["type"]).toBe("track");
    expect(event?.["event"]).toBe("order_completed");
    expect((event?.["properties"] as Record<string, unknown>)["type"]).toBe("digital");
  });

  it("a file without an id column reads the type column", async () => {
    const items = await readText("type,event,user_id,message_id\nidentify,,u1,m1\n", { table: "signups", tableFromFileName: true });
    const [event] = eventsOf(items);

    expect(event?.["type"]).toBe("identify");
  });

  it("a table given by the user wins over the type column", async () => {
    const items = await readText("type,event,user_id,message_id\nidentify,Signed Up,u1,m1\n", { table: "signups" });
    const [event] = eventsOf(items);

    expect(event?.["type"]).toBe("track");
  });
});
