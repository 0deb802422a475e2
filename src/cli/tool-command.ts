import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Returns the command that starts koala-replay as the user started it, so that printed commands
 * run as printed. npx and `npm exec` set `npm_command` to "exec" (checked with npm 10.9 and 11.19),
 * and the command is then `npx koala-replay`. When npm resolved it in another folder than it
 * would from the working directory (`npx --prefix DIR koala-replay`), the command keeps
 * `--prefix DIR`, because a bare `npx koala-replay` would look for koala-replay on the registry.
 * Without npm it is `koala-replay`.
 */
export function toolCommand(env: NodeJS.ProcessEnv = process.env, workingDirectory = process.cwd()): string {
  if (env["npm_command"] !== "exec") {
    return "koala-replay";
  }
  // npm sets npm_config_local_prefix (checked with npm 11.19) to the folder it resolves packages in:
  // --prefix, or the nearest folder up from the working directory with a package.json or node_modules.
  const localPrefix = env["npm_config_local_prefix"];
  if (localPrefix === undefined || localPrefix === "" || samePath(localPrefix, defaultLocalPrefix(workingDirectory))) {
    return "npx koala-replay";
  }
  return `npx --prefix ${shellQuote(localPrefix)} koala-replay`;
}

/** Rewrites each `koala-replay ` at the start of a command in `text` to start as `toolCommand()` does. */
export function withToolCommand(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const command = toolCommand(env);
  return command === "koala-replay" ? text : text.replaceAll("koala-replay ", `${command} `);
}

/** Quotes `arg` for a POSIX shell when it contains anything but letters, digits and `@%+=:,./-`. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/**
 * Finds the folder npm would resolve packages in from `workingDirectory` without --prefix: the
 * nearest one, going up, that has a package.json or a node_modules folder, else the working
 * directory itself.
 * NOTE: npm goes further up to a workspace root when the folder found is one of its workspaces.
 * The command then keeps a `--prefix` that it could leave out, which still runs.
 */
function defaultLocalPrefix(workingDirectory: string): string {
  for (let folder = workingDirectory; ; folder = dirname(folder)) {
    if (existsSync(join(folder, "package.json")) || existsSync(join(folder, "node_modules"))) {
      return folder;
    }
    if (dirname(folder) === folder) {
      return workingDirectory;
    }
  }
}

function samePath(left: string, right: string): boolean {
  return realPath(left) === realPath(right);
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // A folder that does not exist cannot be resolved further, so it is compared as given.
    return path;
  }
}
