import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { presetMappings, type MappingDefinition } from "../../koala/presets.js";
import { ConfigError, type ConfigProblem } from "./config-error.js";
import { findDuplicateKeys, findJsonSyntaxError, lineAndColumn, locateJsonPointers } from "./json-syntax.js";
import { findSegmentDivergenceWarnings } from "./segment-divergence-warnings.js";
import { findTemplateWarnings, type ConfigWarning } from "./template-warnings.js";
import { findTriggerWarnings } from "./trigger-warnings.js";
import { validateConfig } from "./validate-config.js";
import { toolCommand } from "../../cli/tool-command.js";

export const defaultConfigFileName = "koala-replay.config.json";

/** The mappings to run, the emails to leave out, and where they came from. */
export interface LoadedConfig {
  mappings: MappingDefinition[];
  /** Email patterns of `excludeEmails`, as written. Empty without a config file or the key. */
  excludeEmails: string[];
  /** Absolute path of the config file, or "presets" when no config file was found. */
  source: string;
  /** Warnings about a valid config file, each with the line and column of its pointer. */
  warnings: PositionedConfigWarning[];
}

export interface PositionedConfigWarning extends ConfigWarning {
  line?: number;
  column?: number;
}

/** Returns the absolute path of `koala-replay.config.json` in `cwd` (not its parents), or undefined when there is none. */
export async function findDefaultConfig(cwd: string = process.cwd()): Promise<string | undefined> {
  const candidate = resolve(cwd, defaultConfigFileName);
  try {
    return (await stat(candidate)).isFile() ? candidate : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "the file does not exist" : `the file cannot be read (${code ?? String(error)})`;
    throw new ConfigError(file, [{ pointer: "", message: `${reason}. Check the path, or run "${toolCommand()} init" to create a config` }]);
  }
}

function parseConfigText(file: string, text: string): unknown {
  const withoutBom = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return JSON.parse(withoutBom) as unknown;
  } catch (error) {
    const syntaxError = findJsonSyntaxError(withoutBom);
    const offset = syntaxError?.offset ?? 0;
    const reason = syntaxError?.message ?? (error as Error).message;
    const { line, column } = lineAndColumn(withoutBom, offset);
    throw new ConfigError(file, [{ pointer: "", message: `invalid JSON: ${reason}`, expected: "JSON", line, column }]);
  }
}

/**
 * Returns a problem for each key given more than once in one object. JSON.parse silently keeps the
 * last value, so a mapping copied and edited in place would otherwise lose its first trigger or field mapping.
 */
function duplicateKeyProblems(text: string): ConfigProblem[] {
  return findDuplicateKeys(text).map(({ pointer, firstOffset }) => {
    const first = lineAndColumn(text, firstOffset);
    const key = pointer.slice(pointer.lastIndexOf("/") + 1).replaceAll("~1", "/").replaceAll("~0", "~");
    return {
      pointer,
      message:
        `the key ${JSON.stringify(key)} is given more than once in this object (first at line ${first.line}, column ${first.column}), ` +
        "and only the last would be used. Delete one of the two, or, if one was meant to be another key, correct its name.",
    };
  });
}

/**
 * Adds the line and column of each problem's pointer, or of its nearest ancestor present in the text
 * when the pointer names a missing key.
 */
function withPositions<T extends { pointer: string }>(text: string, problems: readonly T[]): Array<T & { line?: number; column?: number }> {
  const positions = locateJsonPointers(text);
  return problems.map((problem) => {
    let pointer = problem.pointer;
    while (!positions.has(pointer) && pointer !== "") pointer = pointer.slice(0, pointer.lastIndexOf("/"));
    const offset = positions.get(pointer);
    return offset === undefined ? problem : { ...problem, ...lineAndColumn(text, offset) };
  });
}

/**
 * Loads and validates a config file: `path` (relative to `cwd`) when given, else
 * `koala-replay.config.json` in `cwd`, else Segment's two presets. Throws `ConfigError` listing every
 * problem of the file.
 */
export async function loadConfig(path?: string, cwd: string = process.cwd()): Promise<LoadedConfig> {
  const file = path === undefined ? await findDefaultConfig(cwd) : resolve(cwd, path);
  if (file === undefined) return { mappings: presetMappings(), excludeEmails: [], source: "presets", warnings: [] };

  const text = await readConfigText(file);
  const config = parseConfigText(file, text);
  const textWithoutBom = text.replace(/^\uFEFF/, "");
  const { mappings, excludeEmails, problems: configProblems } = validateConfig(config);
  const problems = [...duplicateKeyProblems(textWithoutBom), ...configProblems];
  if (problems.length > 0) throw new ConfigError(file, withPositions(textWithoutBom, problems));
  const warnings = [...findTriggerWarnings(config), ...findTemplateWarnings(config), ...findSegmentDivergenceWarnings(config)];
  return { mappings, excludeEmails, source: file, warnings: withPositions(textWithoutBom, warnings) };
}
