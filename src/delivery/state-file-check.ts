import { isAbsolute } from "node:path";

/**
 * Checks of every field of a state file that a resume reads. Without them a hand-edited or damaged
 * file would be taken as it is. A line number of 1e9 or -1 would mark events done or not done that
 * the runs never finished, and a field of the wrong type would be silently read as missing.
 * Fields added in later versions may be missing, as in the files that older versions wrote.
 */

/** The first value of a state file that fails its check. */
export interface StateFileProblem {
  /** JSON path of the value, such as `$.inputs["/data/events.jsonl"].notDone[0]`. */
  path: string;
  /** The rule the value breaks, such as "a positive safe integer (a line number)". */
  expected: string;
  /** The value as JSON, shortened, or undefined when the field is missing. */
  found: string | undefined;
}

/** A hash that koala-replay writes: the first 16 hex digits of a SHA-256. */
const SHORT_HASH = /^[0-9a-f]{16}$/;
const SHA_256 = /^[0-9a-f]{64}$/;
const LINE_NUMBER_KEY = /^[1-9][0-9]*$/;
const SHOWN_VALUE_CHARS = 60;

type Check = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isString: Check = (value) => typeof value === "string";
const isBoolean: Check = (value) => typeof value === "boolean";
const isCount: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const isLineNumber: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 1;
const isShortHash: Check = (value) => typeof value === "string" && SHORT_HASH.test(value);

const COUNT = "a non-negative safe integer";
const LINE_NUMBER = "a positive safe integer (a line number)";
const SHORT_HASH_TEXT = "a string of 16 lowercase hex digits";

/** Returns the first invalid value of a state file of versions `firstVersion` to `lastVersion`, or undefined when every field passes. */
export function findStateFileProblem(value: unknown, firstVersion: number, lastVersion: number): StateFileProblem | undefined {
  if (!isObject(value)) {
    return problem("$", "a JSON object", value);
  }
  const version = value["version"];
  if (!Number.isSafeInteger(version) || (version as number) < firstVersion || (version as number) > lastVersion) {
    return problem("$.version", `an integer from ${firstVersion} to ${lastVersion}`, version);
  }
  return (
    checkOptional(value, "$", "savedAt", isString, "a string (an ISO 8601 time)") ??
    checkOptional(value, "$", "finished", isBoolean, "true or false") ??
    checkOptional(value, "$", "entrySettingsHash", isShortHash, SHORT_HASH_TEXT) ??
    checkEntrySettingHashes(value["entrySettingHashes"]) ??
    checkOptional(value, "$", "endpoint", (endpoint) => endpoint === null || typeof endpoint === "string", "a URL string or null") ??
    checkOptional(value, "$", "publicKeySha256", isShortHash, SHORT_HASH_TEXT) ??
    checkOptional(value, "$", "publicKeyMasked", isString, "a string (the masked public key)") ??
    checkOptional(value, "$", "publicKeyRejected", isBoolean, "true or false") ??
    checkIdentityGraph(value["identityGraph"]) ??
    checkOptional(value, "$", "identityGraphWarned", isShortHash, SHORT_HASH_TEXT) ??
    checkDeadLetterFile(value["deadLetterFile"]) ??
    checkOptional(value, "$", "deadLetteredEntries", isCount, COUNT) ??
    checkDeadLetterFiles(value["deadLetterFiles"]) ??
    checkInputs(value["inputs"])
  );
}

function checkEntrySettingHashes(hashes: unknown): StateFileProblem | undefined {
  if (hashes === undefined) {
    return undefined;
  }
  if (!isObject(hashes)) {
    return problem("$.entrySettingHashes", "an object of hashes by settings group", hashes);
  }
  for (const [group, hash] of Object.entries(hashes)) {
    if (!isShortHash(hash)) {
      return problem(`$.entrySettingHashes${member(group)}`, SHORT_HASH_TEXT, hash);
    }
  }
  return undefined;
}

function checkIdentityGraph(graph: unknown): StateFileProblem | undefined {
  if (graph === undefined) {
    return undefined;
  }
  if (!isObject(graph)) {
    return problem("$.identityGraph", 'an object with "idsWithEmail" and "digest"', graph);
  }
  return checkRequired(graph, "$.identityGraph", "idsWithEmail", isCount, COUNT) ?? checkRequired(graph, "$.identityGraph", "digest", isShortHash, SHORT_HASH_TEXT);
}

function checkDeadLetterFile(file: unknown): StateFileProblem | undefined {
  if (file === undefined) {
    return undefined;
  }
  if (!isObject(file)) {
    return problem("$.deadLetterFile", 'an object with "path" and "bytes"', file);
  }
  const isAbsolutePath: Check = (path) => typeof path === "string" && isAbsolute(path);
  return (
    checkRequired(file, "$.deadLetterFile", "path", isAbsolutePath, "an absolute path") ??
    checkRequired(file, "$.deadLetterFile", "bytes", isCount, `${COUNT} (a length in bytes)`)
  );
}

function checkDeadLetterFiles(files: unknown): StateFileProblem | undefined {
  if (files === undefined) {
    return undefined;
  }
  if (!Array.isArray(files)) {
    return problem("$.deadLetterFiles", "an array of dead-letter files", files);
  }
  const isAbsolutePath: Check = (path) => typeof path === "string" && isAbsolute(path);
  for (const [index, file] of files.entries()) {
    const path = `$.deadLetterFiles[${index}]`;
    if (!isObject(file)) {
      return problem(path, 'an object with "path", "entries" and "bytes"', file);
    }
    const entries = file["entries"] as number;
    const found =
      checkRequired(file, path, "path", isAbsolutePath, "an absolute path") ??
      checkRequired(file, path, "entries", isCount, COUNT) ??
      checkRequired(file, path, "bytes", isCount, `${COUNT} (a length in bytes)`) ??
      checkOptional(file, path, "resentEntries", (value) => isCount(value) && (value as number) <= entries, `${COUNT} up to entries (${entries})`) ??
      checkOptional(file, path, "resentBy", isAbsolutePath, "an absolute path (a checkpoint)");
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

function checkInputs(inputs: unknown): StateFileProblem | undefined {
  if (!isObject(inputs)) {
    return problem("$.inputs", "an object of progress by input path", inputs);
  }
  for (const [name, input] of Object.entries(inputs)) {
    const found = checkInput(`$.inputs${member(name)}`, name, input);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

function checkInput(path: string, name: string, input: unknown): StateFileProblem | undefined {
  if (name === "") {
    return problem(path, "an input path, not an empty name", name);
  }
  if (!isObject(input)) {
    return problem(path, 'an object with "doneThrough" and "notDone"', input);
  }
  return (
    checkFingerprint(`${path}.fingerprint`, input["fingerprint"]) ??
    checkRequired(input, path, "doneThrough", isCount, `${COUNT} (the last line done)`) ??
    checkOptional(input, path, "watermark", isCount, `${COUNT} (a line number, 0 for none)`) ??
    checkNotDone(`${path}.notDone`, input["notDone"], input["doneThrough"] as number) ??
    checkLineKeys(`${path}.deadLettered`, input["deadLettered"], "dead-letter keys") ??
    checkLineKeys(`${path}.delivered`, input["delivered"], "keys of delivered entries") ??
    checkOptional(input, path, "readByFinishedRun", isBoolean, "true or false") ??
    checkOptional(input, path, "noIdentityEvents", isCount, COUNT) ??
    checkOptional(input, path, "doneWithoutEntries", isCount, COUNT) ??
    checkOptional(input, path, "deadLetteredEntries", isCount, COUNT)
  );
}

function checkFingerprint(path: string, fingerprint: unknown): StateFileProblem | undefined {
  if (fingerprint === undefined || fingerprint === null) {
    return undefined;
  }
  if (!isObject(fingerprint)) {
    return problem(path, 'null or an object with "size", "mtimeMs" and "headTailSha256"', fingerprint);
  }
  const isTime: Check = (time) => typeof time === "number" && Number.isFinite(time) && time >= 0;
  const isSha256: Check = (hash) => typeof hash === "string" && SHA_256.test(hash);
  return (
    checkRequired(fingerprint, path, "size", isCount, `${COUNT} (a size in bytes)`) ??
    checkRequired(fingerprint, path, "mtimeMs", isTime, "a non-negative number of milliseconds") ??
    checkRequired(fingerprint, path, "headTailSha256", isSha256, "a string of 64 lowercase hex digits")
  );
}

/** Lines not done are at most `doneThrough`, because `doneThrough` is the highest line that the runs read and a line not done was read. */
function checkNotDone(path: string, notDone: unknown, doneThrough: number): StateFileProblem | undefined {
  if (!Array.isArray(notDone)) {
    return problem(path, "an array of line numbers", notDone);
  }
  for (const [index, line] of notDone.entries()) {
    if (!isLineNumber(line)) {
      return problem(`${path}[${index}]`, LINE_NUMBER, line);
    }
    if ((line as number) > doneThrough) {
      return problem(`${path}[${index}]`, `a line number up to doneThrough (${doneThrough})`, line);
    }
  }
  return undefined;
}

/** Checks an object of entry keys by line number, as `deadLettered` and `delivered` are; `keysName` names the keys in the plural. */
function checkLineKeys(path: string, lineKeys: unknown, keysName: string): StateFileProblem | undefined {
  if (lineKeys === undefined) {
    return undefined;
  }
  if (!isObject(lineKeys)) {
    return problem(path, `an object of ${keysName} by line number`, lineKeys);
  }
  for (const [line, keys] of Object.entries(lineKeys)) {
    if (!LINE_NUMBER_KEY.test(line) || !Number.isSafeInteger(Number(line))) {
      return problem(`${path}${member(line)}`, "a member named by a positive line number", line);
    }
    if (!Array.isArray(keys)) {
      return problem(`${path}${member(line)}`, `an array of ${keysName} (strings)`, keys);
    }
    const index = keys.findIndex((key) => typeof key !== "string");
    if (index !== -1) {
      return problem(`${path}${member(line)}[${index}]`, "a string", keys[index]);
    }
  }
  return undefined;
}

function checkRequired(parent: Record<string, unknown>, path: string, name: string, check: Check, expected: string): StateFileProblem | undefined {
  const value = parent[name];
  return check(value) ? undefined : problem(`${path}.${name}`, expected, value);
}

function checkOptional(parent: Record<string, unknown>, path: string, name: string, check: Check, expected: string): StateFileProblem | undefined {
  return parent[name] === undefined ? undefined : checkRequired(parent, path, name, check, expected);
}

/** Returns the JSON path step to a member: `.name` for an identifier, `["name"]` for any other name. */
function member(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

function problem(path: string, expected: string, value: unknown): StateFileProblem {
  return { path, expected, found: describeValue(value) };
}

function describeValue(value: unknown): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const text = JSON.stringify(value);
  return text.length > SHOWN_VALUE_CHARS ? `${text.slice(0, SHOWN_VALUE_CHARS)}…` : text;
}
