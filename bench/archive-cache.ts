import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchiveShape } from "./generate/archive.js";
import { assertSucceeded, measureProcess } from "./measure/process.js";
import { compiledBenchDirectory } from "./paths.js";

/**
 * Bumped whenever the generator's output changes, so that archives cached by an older generator are
 * not reused.
 */
const generatorVersion = 1;

export const archiveCacheDirectory = join(tmpdir(), "koala-replay-bench");

/** Users per event in benchmark archives: 200 thousand events come from 5 thousand users. */
export function defaultUsersFor(events: number): number {
  return Math.max(1, Math.round(events / 40));
}

/**
 * Returns the path of an uncompressed archive of that shape, generating it on first use. Archives
 * are kept between runs in the system's temporary directory, keyed by generator version, seed and size.
 * The generator runs in its own process, so the harness stays small: a large parent makes every
 * later spawn slower, which would inflate the start-up figures.
 */
export async function cachedArchive(shape: ArchiveShape, onGenerate: (path: string) => void): Promise<string> {
  mkdirSync(archiveCacheDirectory, { recursive: true });
  const name = `v${generatorVersion}-seed${shape.seed}-events${shape.events}-users${shape.users}.jsonl`;
  const path = join(archiveCacheDirectory, name);
  if (!existsSync(path)) {
    onGenerate(path);
    const generator = join(compiledBenchDirectory, "generate", "cli.js");
    const args = [generator, "--events", String(shape.events), "--users", String(shape.users), "--seed", String(shape.seed), "--out", path];
    assertSucceeded("the archive generator", await measureProcess({ command: process.execPath, args }));
  }
  return path;
}
