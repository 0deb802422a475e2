import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** An event of the fixture archives, with the file (and line) it came from. */
export interface ArchiveEvent {
  origin: string;
  event: Record<string, unknown>;
}

const archiveDirectory = fileURLToPath(new URL("../../fixtures/archives/", import.meta.url));

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Reads every event of the JSON and JSON Lines fixtures copied from real Segment exports. */
export function readArchiveEvents(): ArchiveEvent[] {
  const events: ArchiveEvent[] = [];
  for (const file of filesUnder(archiveDirectory).sort()) {
    const origin = file.slice(archiveDirectory.length);
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".jsonl")) {
      text.split("\n").forEach((line, index) => {
        if (line.trim() !== "") events.push({ origin: `${origin}:${index + 1}`, event: JSON.parse(line) as Record<string, unknown> });
      });
    } else if (file.endsWith(".json")) {
      events.push({ origin, event: JSON.parse(text) as Record<string, unknown> });
    }
  }
  return events;
}
