import { isAbsolute, relative } from "node:path";
import { formatCount } from "./count-format.js";

/**
 * Returns a path as people read it next to the inputs, which appear as given on the command line:
 * relative to the working directory when the path lies inside it, unchanged otherwise.
 */
export function displayPath(path: string, workingDirectory: string): string {
  if (!isAbsolute(path)) return path;
  const relativePath = relative(workingDirectory, path);
  if (relativePath === "" || relativePath.startsWith("..") || isAbsolute(relativePath)) return path;
  return relativePath;
}

/**
 * Names the inputs a read went through, stdin (`-`) apart from files: "stdin", "3 files" or
 * "2 files and stdin". `inputsRead` counts stdin as one, and `stdinRead` is true when stdin was read.
 */
export function describeInputsRead(inputsRead: number, stdinRead: boolean): string {
  const fileCount = stdinRead ? inputsRead - 1 : inputsRead;
  const files = `${formatCount(fileCount)} ${fileCount === 1 ? "file" : "files"}`;
  if (!stdinRead) return files;
  return fileCount === 0 ? "stdin" : `${files} and stdin`;
}
