import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { defaultConfigFileName, loadConfig, type LoadedConfig } from "../mappings/index.js";
import { displayPath } from "../reporting/input-names.js";
import { escapeControlCharacters } from "../reporting/style.js";
import { UsageError } from "./errors.js";
import { shellQuote, toolCommand } from "./tool-command.js";

/**
 * Loads the config as `loadConfig` does (`--config`, else koala-replay.config.json in the working
 * directory, else the presets). A `--config` path that is missing, a directory or unreadable is
 * rejected first with one message and its fix, because the config loader reports it as a problem
 * of the file's content.
 */
export async function loadConfigOption(path: string | undefined): Promise<LoadedConfig> {
  if (path !== undefined) {
    await checkConfigPath(path);
  }
  return loadConfig(path);
}

async function checkConfigPath(path: string): Promise<void> {
  const pathText = isAbsolute(path) ? path : `${path} (in ${process.cwd()})`;
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") {
      throw new UsageError(
        `config file not found: ${pathText}`,
        // The command goes on a line of its own, which is never wrapped, so that it can be copied whole.
        `check the path given with --config, or create a config there with:\n    ${toolCommand()} init ${shellQuote(path)}`,
      );
    }
    throw new UsageError(`config file cannot be read: ${pathText} (${error.code ?? error.message})`, "check the --config path and its permissions");
  });
  if (info.isDirectory()) {
    throw new UsageError(`--config names a directory: ${pathText}`, `give the config file's path, such as --config ${join(path, defaultConfigFileName)}`);
  }
  await access(path, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`config file cannot be read: ${pathText} (${error.code ?? error.message})`, "check the permissions of the file");
  });
}

/** Formats each warning of a loaded config as `<file> <pointer> (line L, column C): <message>`, for `writeWarning`. */
export function describeConfigWarnings(config: LoadedConfig): string[] {
  const file = escapeControlCharacters(displayPath(config.source, process.cwd()));
  return config.warnings.map((warning) => {
    const position = warning.line === undefined ? "" : ` (line ${warning.line}, column ${warning.column ?? 1})`;
    return `${file} ${escapeControlCharacters(warning.pointer)}${position}: ${escapeControlCharacters(warning.message)}`;
  });
}
