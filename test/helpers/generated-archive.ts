import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Builds one event of a generated archive: identify and track calls with an email, in turn. */
export function generatedEvent(index: number): Record<string, unknown> {
  return {
    type: index % 2 === 0 ? "identify" : "track",
    event: index % 2 === 0 ? undefined : "Order Completed",
    messageId: `generated-${index}`,
    timestamp: new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString(),
    userId: `user-${index % 500}`,
    traits: { email: `user-${index % 500}@example.com` },
    properties: { revenue: index },
  };
}

/**
 * Writes a JSONL archive of `count` generated events into a new temporary directory, with `extraLines`
 * inserted after the first event. Returns its path and a function that removes the directory.
 */
export function writeGeneratedArchive(count: number, extraLines: readonly string[] = []): { path: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-test-"));
  const path = join(directory, "generated.jsonl");
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    lines.push(JSON.stringify(generatedEvent(index)));
    if (index === 0) {
      lines.push(...extraLines);
    }
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { path, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
