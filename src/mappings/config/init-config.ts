import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { presetMappings } from "../../koala/presets.js";
import { ConfigError } from "./config-error.js";
import { configSchemaReference } from "./config-schema.js";
import { defaultConfigFileName } from "./load-config.js";

/**
 * Returns the text of a new config: Segment's two presets, spelled out so that they can be edited.
 * `schemaReference` is its `$schema`, which resolves relative to the config's directory.
 */
export function presetConfigText(schemaReference: string = configSchemaReference): string {
  // An empty excludeEmails shows where to list the emails of your own people, which are then not sent.
  const config = { $schema: schemaReference, excludeEmails: [], mappings: presetMappings() };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Writes a config holding the two presets to `path` (relative to `cwd`) and returns its absolute
 * path. Never overwrites: an existing file is a `ConfigError`. The default `schemaReference` only
 * resolves where koala-replay is installed in the config's directory; the CLI's `init` works out one
 * that resolves from where it runs.
 */
export async function initConfig(path: string = defaultConfigFileName, cwd: string = process.cwd(), schemaReference?: string): Promise<string> {
  const file = resolve(cwd, path);
  try {
    await writeFile(file, presetConfigText(schemaReference), { encoding: "utf8", flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EEXIST"
        ? "the file already exists and was left unchanged. Edit it, delete it, or give another path"
        : `the file cannot be written (${code ?? String(error)})`;
    throw new ConfigError(file, [{ pointer: "", message: reason }]);
  }
  return file;
}
