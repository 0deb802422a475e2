// Delivers a JSONL file of {"email", "messageId"} lines with the built delivery module, resuming
// when asked, and prints the result as JSON. The crash test kills it with SIGKILL at random moments.
import { readFileSync } from "node:fs";
import { createDelivery } from "../../../dist/delivery/index.js";

const [endpoint, publicKey, input, statePath, mode, checkpointIntervalMs = "20"] = process.argv.slice(2);
const delivery = createDelivery({
  endpoint,
  publicKey,
  dryRun: false,
  output: process.stdout,
  userAgent: "koala-replay/crash-test",
  resume: mode === "resume",
  inputs: [input],
  statePath,
  maxBatchSize: 5,
  flushAfterRecords: 40,
  checkpointIntervalMs: Number(checkpointIntervalMs),
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 50,
});

const lines = readFileSync(input, "utf8").split("\n");
for (let index = 0; index < lines.length; index += 1) {
  const text = lines[index];
  const origin = { input, line: index + 1 };
  if (text === "" || delivery.isDone(origin)) {
    continue;
  }
  const event = JSON.parse(text);
  const person = { email: event.email, traits: {} };
  const entry = {
    kind: "events",
    person,
    personKey: JSON.stringify(person),
    entryJson: JSON.stringify({ type: "track", event: "Crash Test", message_id: event.messageId }),
    messageId: event.messageId,
    mappingName: "Track Event",
    origin,
    eventJson: text,
  };
  await delivery.submit(origin, [entry]);
  if (index % 25 === 0) {
    // Reading a real file yields to I/O now and then; this lets responses arrive during the run.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const result = await delivery.finish();
process.stdout.write(`${JSON.stringify(result)}\n`);
