import { writeSync } from "node:fs";
import { forEachLine } from "./lines.js";
import { segmentPresetRequests } from "./segment-presets.js";

/**
 * The pipeline a user would build from Segment's packages: it reads an uncompressed JSONL file line
 * by line, parses each line, applies the two presets and writes the requests to stdout, one JSON line each.
 */

const outputChunkChars = 256 * 1024;

async function main(path: string | undefined, url: string | undefined): Promise<void> {
  if (path === undefined || url === undefined) throw new Error("usage: node segment-pipeline.js FILE.jsonl URL");
  const requestsFor = segmentPresetRequests(url);
  let output = "";
  let requests = 0;
  await forEachLine(path, (line) => {
    for (const request of requestsFor(JSON.parse(line))) {
      output += request + "\n";
      requests++;
    }
    if (output.length >= outputChunkChars) {
      writeSync(1, output);
      output = "";
    }
  });
  writeSync(1, output);
  console.error(`wrote ${requests} requests`);
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
  console.error(`segment-pipeline: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
