import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** Reads the events of a fixture file (JSONL, gzip or not, or one JSON document) for building expectations. */
export function readFixtureEvents(path: string): Array<Record<string, unknown>> {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = gunzipSync(bytes);
  }
  const text = bytes.toString("utf8");
  const firstLine = text.trimStart().split("\n")[0] ?? "";
  if (firstLine.trimEnd().endsWith("}")) {
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const document = JSON.parse(text) as unknown;
  if (Array.isArray(document)) {
    return document as Array<Record<string, unknown>>;
  }
  const batch = (document as { batch?: unknown }).batch;
  return Array.isArray(batch) ? (batch as Array<Record<string, unknown>>) : [document as Record<string, unknown>];
}

/** Lists the archive files (`.gz`, `.jsonl`, `.json`) below a directory, recursively and in name order. */
export function archiveFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) {
        return archiveFiles(path);
      }
      return /\.(gz|jsonl|json)$/.test(name) ? [path] : [];
    });
}
