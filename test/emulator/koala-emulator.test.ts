import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type KoalaEmulator, startKoalaEmulator } from "./koala-emulator.js";

const KEY = "pk_emulator_0123456789";
let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await request(`${emulator?.url}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "user-agent": "test", ...headers },
  });
  await response.body.dump();
  return response.statusCode;
}

function entries(count: number, prefix: string): string {
  return JSON.stringify(Array.from({ length: count }, (_, index) => ({ type: "track", event: "E", message_id: `${prefix}${index}` })));
}

describe("Koala emulator", () => {
  it("checks what the API checks", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const batch = `/web/projects/${KEY}/batch`;

    expect(await post(batch, `{"email":"a@example.com","events":${entries(2, "a")}}`)).toBe(200);
    expect(await post(`/web/projects/pk_other_0123456789/batch`, `{"email":"a@example.com"}`)).toBe(401);
    expect(await post(batch, "{not json")).toBe(400);
    expect(await post(batch, `{"traits":{},"events":${entries(1, "b")}}`)).toBe(400);
    expect(await post(batch, `{"email":"a@example.com","events":${entries(31, "c")}}`)).toBe(400);
    expect(await post(batch, `{"email":"a@example.com","events":[{"type":"track"}]}`)).toBe(400);
    expect(await post(batch, `{"email":"a@example.com"}`, { "content-type": "text/plain" })).toBe(400);
    expect(await post("/elsewhere", "{}")).toBe(404);
    expect(emulator.accepted.size).toBe(2);
  });

  it("rejects a missing User-Agent", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const response = await request(`${emulator.url}/web/projects/${KEY}/batch`, {
      method: "POST",
      body: `{"email":"a@example.com"}`,
      headers: { "content-type": "application/json", "user-agent": "" },
    });
    await response.body.dump();

    expect(response.statusCode).toBe(400);
  });

  it("records a message_id once", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const body = `{"profile_id":"p1","traits":{},"identifies":${entries(3, "m")}}`;
    await post(`/web/projects/${KEY}/batch`, body);
    await post(`/web/projects/${KEY}/batch`, body);

    expect(emulator.accepted.size).toBe(3);
    expect(emulator.stats.duplicateEntries).toBe(3);
    expect(emulator.accepted.get("m0")?.kind).toBe("identifies");
  });

  it("serves GET /auth for the right key only", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const valid = await request(`${emulator.url}/web/projects/${KEY}/auth`, { headers: { "user-agent": "test" } });
    const invalid = await request(`${emulator.url}/web/projects/pk_other_0123456789/auth`, { headers: { "user-agent": "test" } });
    await valid.body.dump();
    await invalid.body.dump();

    expect(valid.statusCode).toBe(200);
    expect(invalid.statusCode).toBe(401);
  });

  it("down status answers GET /auth too", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { downStatus: 503 } });
    const auth = await request(`${emulator.url}/web/projects/${KEY}/auth`, { headers: { "user-agent": "test" } });
    await auth.body.dump();

    expect(auth.statusCode).toBe(503);
    expect(await post(`/web/projects/${KEY}/batch`, `{"email":"a@example.com","events":${entries(1, "d")}}`)).toBe(503);
    expect(emulator.accepted.size).toBe(0);
  });

  it("500 entry fault fails its whole request", async () => {
    const crash = /^Crash/;
    emulator = await startKoalaEmulator({
      publicKey: KEY,
      faults: { serverErrorEntry: (entry, person) => crash.test(String(entry["event"])) || person.email === "poison@example.com" },
    });
    const batch = `/web/projects/${KEY}/batch`;
    const mixed = JSON.stringify([
      { type: "track", event: "Crash Now", message_id: "x1" },
      { type: "track", event: "Fine", message_id: "x2" },
    ]);

    expect(await post(batch, `{"email":"a@example.com","events":${mixed}}`)).toBe(500);
    expect(await post(batch, `{"email":"poison@example.com","events":${entries(1, "p")}}`)).toBe(500);
    expect(await post(batch, `{"email":"a@example.com","events":${entries(1, "ok")}}`)).toBe(200);
    expect([...emulator.accepted.keys()]).toEqual(["ok0"]);
  });
});
