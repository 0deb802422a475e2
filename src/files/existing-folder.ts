import { stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Returns the nearest of `folder` (absolute) and its parents that exists, so that a check of write
 * access there covers the folders that `mkdir -p` would create below it. Throws an error with the
 * code ENOTDIR when that path is a file, since no folder can be created inside it.
 */
export async function nearestExistingFolder(folder: string): Promise<string> {
  let candidate = folder;
  for (;;) {
    const stats = await stat(candidate).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a parent is a file, which the loop reaches and reports.
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    if (stats !== undefined) {
      if (!stats.isDirectory()) {
        throw Object.assign(new Error(`${candidate} is not a directory`), { code: "ENOTDIR", path: candidate });
      }
      return candidate;
    }
    const parent = dirname(candidate);
    if (parent === candidate) return candidate;
    candidate = parent;
  }
}
