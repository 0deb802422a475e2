import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Koala records one entry per message_id. A custom mapping next to the Track Event preset that
// keeps $.messageId makes a second entry with the same message_id, which Koala drops.

const KEY = "pk_shared_ids_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-shared-ids-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Writes a config of the Track Event preset and an Orders mapping with the given message_id. */
function writeConfig(ordersMessageId: unknown): string {
  const trackEvent = {
    name: "Track Event",
    trigger: 'type = "track"',
    action: "trackEvent",
    mapping: {
      email: { "@path": "$.context.traits.email" },
      event: { "@path": "$.event" },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.messageId" },
    },
  };
  const orders = {
    name: "Orders",
    trigger: 'type = "track" and event = "Order Completed"',
    action: "trackEvent",
    mapping: { ...trackEvent.mapping, event: { "@template": "Order {{properties.currency}}" }, message_id: ordersMessageId },
  };
  const path = join(directory, "koala-replay.config.json");
  writeFileSync(path, JSON.stringify({ mappings: [trackEvent, orders] }));
  return path;
}

function writeOrders(): string {
  const lines = [1, 2].map((index) =>
    JSON.stringify({
      type: "track",
      event: "Order Completed",
      messageId: `order-${index}`,
      properties: { currency: "EUR" },
      context: { traits: { email: "ada@example.com" } },
      timestamp: "2024-01-01T00:00:00.000Z",
    }),
  );
  const path = join(directory, "orders.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

function send(config: string, input: string): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--config", config, "--state", join(directory, "state", "state.json"), input], {
    env: { KOALA_PUBLIC_KEY: KEY },
  });
}

describe("mappings sharing a message_id", () => {
  test("two mappings keeping $.messageId", async () => {
    const result = await send(writeConfig({ "@path": "$.messageId" }), writeOrders());
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(stderr).toContain('orders.jsonl:1: the mappings "Track Event" and "Orders" both made an entry with message_id "order-1"');
    expect(stderr).toContain('such as {"@template": "{{messageId}}-orders"}');
    // One warning for the pair of mappings, however many events they share.
    expect(stderr.match(/both made an entry/g)).toHaveLength(1);
    // The emulator, as Koala does, records the first entry of each message_id, so the Orders entries are dropped.
    expect(emulator.accepted.size).toBe(2);
    expect(emulator.stats.duplicateEntries).toBe(2);
  });

  test("message_id of its own for the second mapping", async () => {
    const result = await send(writeConfig({ "@template": "{{messageId}}-orders" }), writeOrders());

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("both made an entry");
    expect(emulator.accepted.size).toBe(4);
    expect(emulator.stats.duplicateEntries).toBe(0);
  });

  test("message_id repeated by the config", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--config", writeConfig({ "@path": "$.properties.currency" }), writeOrders()]);
    const summary = unwrapSummary(result.stderr);

    // Both orders have the currency EUR, so every Orders entry after the first repeats its message_id.
    expect(summary).toMatch(/duplicate-message-id +1 /);
    expect(summary).toContain("or a mapping gives different events the same message_id: check what the config maps message_id from.");
  });

  test("duplicate events under the presets", async () => {
    const input = writeOrders();
    writeFileSync(input, `${readFileSync(input, "utf8")}${readFileSync(input, "utf8")}`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", input], { cwd: directory });
    const summary = unwrapSummary(result.stderr);

    expect(summary).toContain("The inputs hold the same events more than once (an S3 archive is at-least-once).");
    expect(summary).not.toContain("check what the config maps message_id from");
  });
});
