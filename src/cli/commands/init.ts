import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { defaultConfigFileName, presetConfigText } from "../../mappings/index.js";
import { displayPath } from "../../reporting/input-names.js";
import { textWidth } from "../../reporting/output-width.js";
import { UsageError } from "../errors.js";
import { chooseSchemaReference } from "../schema-reference.js";
import { wrapStderrMessage } from "../stderr-message.js";
import { writeStderr } from "../stdout-pipe.js";
import { shellQuote, toolCommand } from "../tool-command.js";

/**
 * Runs `koala-replay init`: writes the presets as a config file, never over an existing file. A
 * path that is a directory gets the config under the default name inside it.
 */
export async function initCommand(requestedPath: string): Promise<void> {
  const path = isDirectory(requestedPath) ? join(requestedPath, defaultConfigFileName) : requestedPath;
  if (existsSync(path)) {
    throw new UsageError(`${path} already exists and was left unchanged`, existingFileHint());
  }
  const file = resolve(path);
  const schema = chooseSchemaReference(file);
  await writeConfig(file, configText(schema.reference));

  const config = path === defaultConfigFileName ? "" : ` --config ${shellQuote(path)}`;
  // Each command is on a line of its own, which is never wrapped, so that it can be pasted.
  const next = [
    "edit the mappings, then check them with:",
    `    ${toolCommand()} check${config}`,
    "  and look at the requests they make with:",
    `    ${toolCommand()} preview${config} <inputs>`,
  ].join("\n");
  // The file written and the next steps are the result of init, so they go to stdout, and the note to stderr.
  process.stdout.write(`${wrapStderrMessage(`wrote ${displayPath(file, process.cwd())}\n  ${next}`, textWidth(process.stdout))}\n`);
  if (schema.note !== undefined) {
    writeStderr(`${wrapStderrMessage(`note: ${schema.note}`)}\n`);
  }
}

function existingFileHint(): string {
  return `edit it, delete it first, or write elsewhere with:\n    ${toolCommand()} init <path>`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Returns the presets' config text with `$schema` set to `reference`, or without `$schema`. */
function configText(reference: string | undefined): string {
  const config = JSON.parse(presetConfigText()) as Record<string, unknown>;
  if (reference === undefined) {
    delete config["$schema"];
  } else {
    config["$schema"] = reference;
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function writeConfig(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, { encoding: "utf8", flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      throw new UsageError(`${file} already exists and was left unchanged`, existingFileHint());
    }
    if (code === "ENOENT") {
      throw new UsageError(`cannot write ${file}: the directory ${dirname(file)} does not exist`, `create it first (mkdir -p ${dirname(file)}) or choose another path`);
    }
    throw new UsageError(`cannot write ${file} (${code ?? String(error)})`, "check the path and the permissions of its directory");
  }
}
