import { existsSync } from "node:fs";
import { initConfig } from "../../mappings/index.js";
import { UsageError } from "../errors.js";

/** Runs `koala-replay init`: writes the presets as a config file, never over an existing file. */
export async function initCommand(path: string): Promise<void> {
  if (existsSync(path)) {
    throw new UsageError(`${path} already exists and was left unchanged`, "edit it, delete it first, or write elsewhere: koala-replay init <path>");
  }
  const written = await initConfig(path);
  process.stderr.write(`wrote ${written}\n  edit the mappings, then preview them: koala-replay send --dry-run --config ${path} <inputs>\n`);
}
