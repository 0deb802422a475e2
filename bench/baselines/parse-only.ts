import { forEachLine } from "./lines.js";

/**
 * Splits an uncompressed JSONL file into lines and JSON.parses each one, doing nothing else: the
 * ceiling for any single-threaded Node replay. Prints the number of parsed objects to stderr.
 */
async function main(path: string | undefined): Promise<void> {
  if (path === undefined) throw new Error("usage: node parse-only.js FILE.jsonl");
  let objects = 0;
  await forEachLine(path, (line) => {
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null) objects++;
  });
  console.error(`parsed ${objects} objects`);
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`parse-only: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
