import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDelivery } from "../../src/delivery/index.js";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { makeRecords, TEST_KEY, temporaryDirectory, testOptions } from "./helpers.js";

// A delivery run saves its checkpoint and removes its locks in exit listeners of the process. Each
// run must remove them once it has done so, or a process that runs several deliveries collects
// them, and Node warns of a possible leak at the eleventh.

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("exit listeners of a delivery", () => {
  it.each(["finish", "stop"] as const)("removed after %s", async (ending) => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const folder = temporaryDirectory();
    const before = process.listenerCount("exit");

    const delivery = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["events.jsonl"], statePath: join(folder, "state.json") }));
    for (const entry of makeRecords(10, 2)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const during = process.listenerCount("exit");
    await (ending === "finish" ? delivery.finish() : delivery.stop());

    expect(during).toBeGreaterThan(before);
    expect(process.listenerCount("exit")).toBe(before);
  });
});
