import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { KoalaEntry, PersonFields } from "../../src/delivery/entry.js";
import type { DeliveryOptions } from "../../src/delivery/options.js";

export const TEST_KEY = "pk_test_0123456789abcdef";

/** Builds an entry like the mapping stage would, with its JSON serialised. */
export function makeEntry(
  person: PersonFields,
  messageId: string,
  origin: { input: string; line: number },
  kind: "events" | "identifies" = "events",
  extra: Record<string, unknown> = {},
): KoalaEntry {
  const orderedPerson = { profile_id: person.profile_id, email: person.email, traits: person.traits, ip: person.ip };
  const entry = kind === "events" ? { type: "track", event: "Clicked", message_id: messageId, ...extra } : { type: "identify", message_id: messageId, ...extra };
  return {
    kind,
    person,
    personKey: JSON.stringify(orderedPerson),
    entryJson: JSON.stringify(entry),
    messageId,
    mappingName: kind === "events" ? "Track Event" : "Identify Visitor",
    origin,
    eventJson: JSON.stringify({ type: kind === "events" ? "track" : "identify", messageId }),
  };
}

/** A writable stream that keeps what was written, as lines. */
export class LineCollector extends Writable {
  text = "";

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString("utf8");
    callback();
  }

  get lines(): string[] {
    return this.text.split("\n").filter((line) => line.length > 0);
  }
}

/** Options for a real run against a local server, with short waits so tests stay fast. */
export function testOptions(url: string, overrides: Partial<DeliveryOptions> = {}): DeliveryOptions {
  return {
    endpoint: url,
    publicKey: TEST_KEY,
    dryRun: false,
    output: new LineCollector(),
    userAgent: "koala-replay/test",
    resume: false,
    inputs: [],
    cwd: temporaryDirectory(),
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 50,
    retryAfterCapMs: 200,
    timeoutMs: 2_000,
    stopGraceMs: 500,
    random: seededJitter(7),
    ...overrides,
  };
}

function seededJitter(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * Builds `count` records for `persons` people, round robin, one entry per record, every 5th an
 * identify call. Everyone's traits change every `traitChangeEvery` records, if given.
 */
export function makeRecords(count: number, persons: number, input = "events.jsonl", traitChangeEvery = Infinity): KoalaEntry[] {
  const entries: KoalaEntry[] = [];
  for (let line = 1; line <= count; line += 1) {
    const personIndex = line % persons;
    const plan = Number.isFinite(traitChangeEvery) ? `plan-${Math.floor(line / traitChangeEvery)}` : "pro";
    const person: PersonFields = { email: `person${personIndex}@example.com`, traits: { plan } };
    entries.push(makeEntry(person, `message-${line}`, { input, line }, line % 5 === 0 ? "identifies" : "events"));
  }
  return entries;
}

/** Creates a fresh folder for state and dead-letter files, so tests never write into the repository. */
export function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "koala-replay-test-"));
}
