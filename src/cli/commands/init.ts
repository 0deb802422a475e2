import { existsSync } from "node:fs";
import { initConfig } from "../../mappings/index.js";
import { UsageError } from "../errors.js";

/** Runs `koala-replay init`: writes the presets as a config file, never over an existing file. */
export async function initCommand(path: string): Promise<void> {
  if (existsSync(path)) {
    throw new UsageError(`${path} already exists and was left unchanged`, "edit it, delete it first, or write elsewhere: koala-replay init <path>");
  }
  const written = await initConfig(path);
  const config = path === "koala-replay.config.json" ? "" : ` --config ${path}`;
  process.stderr.write(`wrote ${written}\n  edit the mappings, check them with koala-replay check${config}, then look at the requests they make: koala-replay preview${config} <inputs>\n`);
}
