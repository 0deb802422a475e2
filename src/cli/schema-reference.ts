import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SCHEMA_FILE = "koala-replay.config.schema.json";

/** The JSON Schema shipped with the running copy of koala-replay, next to `dist/`. */
export const shippedSchemaPath = fileURLToPath(new URL(`../../schema/${SCHEMA_FILE}`, import.meta.url));

/** The `$schema` value to write into a new config, and a note for the user when the value may stop resolving. */
export interface SchemaReference {
  /** Undefined when no schema file was found, so the config gets no `$schema`. */
  reference: string | undefined;
  note: string | undefined;
}

/**
 * Chooses the `$schema` of a config written to `configFile` (an absolute path). Editors resolve a
 * relative `$schema` from the config's directory, so the value is a relative path to a schema file
 * that exists now:
 * 1. koala-replay installed in the config's directory or above (`node_modules/koala-replay`), whose
 *    path stays the same across upgrades;
 * 2. else the schema of the running copy: a checkout, a global install or npx's cache. npm may
 *    clear its npx cache, so that case gets a note.
 */
export function chooseSchemaReference(configFile: string, schemaPath: string = shippedSchemaPath): SchemaReference {
  const configDirectory = dirname(configFile);
  const installed = findInstalledSchema(configDirectory);
  if (installed !== undefined) {
    return { reference: relativeReference(configDirectory, installed), note: undefined };
  }
  if (!existsSync(schemaPath)) {
    return {
      reference: undefined,
      note: `the config has no "$schema" because ${schemaPath} was not found, so editors cannot complete it`,
    };
  }
  const reference = relativeReference(configDirectory, schemaPath);
  const inNpxCache = schemaPath.split(sep).includes("_npx");
  const note = inNpxCache
    ? `"$schema" points into npx's cache, which npm may clear. For a lasting one, install koala-replay in the project ` +
      `(npm install --save-dev koala-replay) and set "$schema" to ./node_modules/koala-replay/schema/${SCHEMA_FILE}`
    : undefined;
  return { reference, note };
}

function findInstalledSchema(directory: string): string | undefined {
  for (let current = directory; ; current = dirname(current)) {
    const candidate = join(current, "node_modules", "koala-replay", "schema", SCHEMA_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

/** Returns `target` relative to `directory` with forward slashes, or as a file URL when no relative path exists (another drive). */
function relativeReference(directory: string, target: string): string {
  const path = relative(directory, target);
  if (isAbsolute(path)) return pathToFileURL(target).href;
  const slashed = path.split(sep).join("/");
  return slashed.startsWith("../") ? slashed : `./${slashed}`;
}
