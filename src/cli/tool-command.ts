import { existsSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, relative, sep } from "node:path";

/** The name of the command that a package install puts on the PATH (`bin` in package.json). */
const BIN_NAME = "koala-replay";

/** The way the running process was started, which `toolCommand` reads. */
export interface Invocation {
  env: NodeJS.ProcessEnv;
  workingDirectory: string;
  /** Path of the script that node runs (`process.argv[1]`), or undefined when there is none. */
  scriptPath: string | undefined;
  /** Path of the node binary (`process.execPath`). */
  nodePath: string;
  /** Options given to node before the script (`process.execArgv`), such as `--max-old-space-size=8192`. */
  nodeOptions: readonly string[];
}

/** The command of this process, found once, because a printed message may need it many times. */
let currentCommand: string | undefined;

/**
 * Returns the command that starts koala-replay as the user started it, so that printed commands
 * run as printed:
 *
 * - Under npx and `npm exec`, which set `npm_command` to "exec" (checked with npm 10.9 and 11.19),
 *   `npx koala-replay`. When npm resolved it in another folder than it would from the working
 *   directory (`npx --prefix DIR koala-replay`), the command keeps `--prefix DIR`, because a bare
 *   `npx koala-replay` would look for koala-replay on the registry.
 * - `koala-replay` when the `koala-replay` that the PATH finds runs this script. Under `npm run`,
 *   which puts the project's node_modules/.bin on the PATH, it is the npx command instead, because
 *   the user's shell does not have that folder on its PATH.
 * - Otherwise node and the script, as in `node bin/koala-replay.js`: the script's path is relative
 *   to the working directory when it lies inside it, and node is named by its path when the PATH
 *   finds another node. Options given to node come along.
 */
export function toolCommand(invocation?: Invocation): string {
  if (invocation !== undefined) {
    return findToolCommand(invocation);
  }
  currentCommand ??= findToolCommand({
    env: process.env,
    workingDirectory: process.cwd(),
    scriptPath: process.argv[1],
    nodePath: process.execPath,
    nodeOptions: process.execArgv,
  });
  return currentCommand;
}

function findToolCommand(invocation: Invocation): string {
  const { env, workingDirectory, scriptPath } = invocation;
  if (env["npm_command"] === "exec") {
    return npxCommand(env, workingDirectory);
  }
  if (scriptPath === undefined) {
    return BIN_NAME;
  }
  const onPath = findOnPath(BIN_NAME, env["PATH"]);
  if (onPath !== undefined && samePath(onPath, scriptPath)) {
    const inNpmBinFolder = dirname(onPath).endsWith(`${sep}node_modules${sep}.bin`);
    return env["npm_command"] !== undefined && inNpmBinFolder ? npxCommand(env, workingDirectory) : BIN_NAME;
  }
  const nodeOnPath = findOnPath("node", env["PATH"]);
  const node = nodeOnPath !== undefined && samePath(nodeOnPath, invocation.nodePath) ? "node" : invocation.nodePath;
  return [node, ...invocation.nodeOptions, pathFrom(workingDirectory, scriptPath)].map(shellQuote).join(" ");
}

/** Returns `npx koala-replay`, with `--prefix DIR` when npm resolved it in DIR rather than from the working directory. */
function npxCommand(env: NodeJS.ProcessEnv, workingDirectory: string): string {
  // npm sets npm_config_local_prefix (checked with npm 11.19) to the folder it resolves packages in:
  // --prefix, or the nearest folder up from the working directory with a package.json or node_modules.
  const localPrefix = env["npm_config_local_prefix"];
  if (localPrefix === undefined || localPrefix === "" || samePath(localPrefix, defaultLocalPrefix(workingDirectory))) {
    return `npx ${BIN_NAME}`;
  }
  return `npx --prefix ${shellQuote(localPrefix)} ${BIN_NAME}`;
}

/** Rewrites each `koala-replay ` at the start of a command in `text` to start as `toolCommand()` does. */
export function withToolCommand(text: string): string {
  const command = toolCommand();
  return command === BIN_NAME ? text : text.replaceAll(`${BIN_NAME} `, `${command} `);
}

/**
 * Quotes `arg` for a POSIX shell when it contains anything but letters, digits and `@%+=:,./-`.
 * An argument with a control character is written as `$'…'` with escapes (`\x1b`, `\u0085`),
 * which bash reads back as the same characters (checked with bash 5.2). The printed command then
 * neither drives the terminal nor changes when it is pasted.
 * NOTE: dash, the `sh` of Debian, reads `$'…'` as a `$` and a quoted string (checked with 0.5.12).
 */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) {
    return arg;
  }
  if (!/[\u0000-\u001f\u007f-\u009f]/.test(arg)) {
    return `'${arg.replace(/'/g, "'\\''")}'`;
  }
  const escaped = arg.replace(/[\\'\u0000-\u001f\u007f-\u009f]/g, (character) => {
    if (character === "\\" || character === "'") {
      return `\\${character}`;
    }
    const code = character.charCodeAt(0);
    // \xHH is one byte, which is the character itself only below 0x80.
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return `$'${escaped}'`;
}

/** Returns the path of the file named `name` that a shell finds through `pathVariable`, or undefined. */
function findOnPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const folder of (pathVariable ?? "").split(delimiter)) {
    // An empty entry of PATH stands for the working directory, which a shell searches too.
    const candidate = join(folder === "" ? "." : folder, name);
    if (isFile(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

/** Returns `path` relative to `workingDirectory` when it lies inside it, and unchanged otherwise. */
function pathFrom(workingDirectory: string, path: string): string {
  const relativePath = relative(workingDirectory, path);
  return relativePath === "" || relativePath.startsWith("..") || isAbsolute(relativePath) ? path : relativePath;
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
