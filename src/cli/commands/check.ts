import { readFileSync } from "node:fs";
import { compileTrigger, TriggerSyntaxError, type CompiledTrigger, type NegatedTestWithoutText, type TriggerDialect } from "../../triggers/index.js";
import type { TriggerField } from "../../triggers/walk.js";
import { compilePathReader } from "../../triggers/values.js";
import type { SegmentEvent } from "../../inputs/record.js";
import { checkPublicKey } from "../../delivery/index.js";
import { buildProcessorRules } from "../../pipeline/processor-config.js";
import { displayPath } from "../../reporting/input-names.js";
import { isShortPublicKey, maskPublicKey, maskSecret, MIN_PUBLIC_KEY_LENGTH } from "../../reporting/mask.js";
import { textWidth } from "../../reporting/output-width.js";
import { escapeControlCharacters } from "../../reporting/style.js";
import { appendNote, formatWithTextWidth, wrapMessage } from "../../reporting/wrap-text.js";
import { describeConfigWarnings, loadConfigOption } from "../config-file.js";
import { ExitCode, UsageError } from "../errors.js";
import { checkPublicKeyFormat } from "../public-key.js";
import { DEFAULT_ENDPOINT } from "../option-defaults.js";
import { parseEndpointOption, parseExcludeEmailsOption } from "../send-options.js";
import { listEmailPatterns, type SourcedEmailPattern } from "../../pipeline/email-exclusion.js";
import { packageVersion } from "../version.js";
import { toolCommand } from "../tool-command.js";
import { writeError, wrapStderrMessage } from "../stderr-message.js";
import { writeStderr } from "../stdout-pipe.js";
import { writeWarning } from "../warning.js";
import { findSharedMessageIds } from "../../mappings/config/shared-message-ids.js";
import { parseDecimal } from "../../inputs/csv/cell.js";
import { isAnalyticsJsEvent } from "../../pipeline/browser-events.js";

export interface RawCheckOptions {
  trigger?: string;
  event?: string;
  dialect?: string;
  config?: string;
  publicKey?: string;
  endpoint?: string;
  excludeEmails?: string;
}

/**
 * Runs `koala-replay check`: with --trigger, checks that trigger; otherwise validates the config
 * (every mapping and trigger) and tests the public key with Koala. Returns 0 when all is valid, 2 for
 * an invalid config, 3 when Koala rejects the key, cannot be reached or responds with another error.
 */
export async function checkCommand(options: RawCheckOptions): Promise<number> {
  if (options.trigger !== undefined || options.event !== undefined) {
    return await checkTriggerCommand(options);
  }
  const excludedByOption = parseExcludeEmailsOption(options.excludeEmails);
  const config = await loadConfigOption(options.config);
  buildProcessorRules({ mappings: config.mappings, browserEvents: { kind: "skip" }, filters: [] });
  const source = config.source === "presets" ? "Segment's two presets" : displayPath(config.source, process.cwd());
  const origin = config.source === "presets" ? "Segment's two presets (no config file found)" : source;
  process.stdout.write(`config valid: ${config.mappings.length} ${config.mappings.length === 1 ? "mapping" : "mappings"} from ${escapeControlCharacters(origin)}\n`);
  process.stdout.write(await formatWithTextWidth(() => formatMappingList(config.mappings, textWidth(process.stdout))));
  process.stdout.write(formatExcludedEmails(listEmailPatterns(config.excludeEmails, excludedByOption), source));
  for (const warning of describeConfigWarnings(config)) {
    writeWarning(warning);
  }
  for (const warning of findSharedMessageIds(config.mappings)) {
    writeWarning(`${escapeControlCharacters(source)}: ${escapeControlCharacters(warning)}`);
  }
  if (!config.mappings.some((mapping) => mapping.enabled)) {
    writeWarning(`every mapping of ${source} is disabled ("enabled": false), so send would send nothing\n  set "enabled": true on the mappings to use, or remove "enabled": false`);
  }
  return checkKey(options);
}

/**
 * Formats the mappings of a valid config, one a row with on or off, the name, the action and the
 * trigger. The trigger wraps to `width` columns beside the name, or below it when the name leaves
 * too little room.
 */
function formatMappingList(mappings: ReadonlyArray<{ name: string; enabled: boolean; action: string; trigger: string }>, width: number): string {
  const rows = mappings.flatMap((mapping) => {
    const head = `  ${mapping.enabled ? "on " : "off"}  ${escapeControlCharacters(mapping.name)} (${mapping.action}):`;
    return appendNote(head, " ", mapping.trigger, width, (text) => text);
  });
  return rows.map((row) => `${row}\n`).join("");
}

/**
 * Lists the email patterns in effect, one a line so that none is wrapped, each with where it was
 * given. `send`, `preview` and `inspect` with the same `--exclude-emails` use the same list.
 */
function formatExcludedEmails(patterns: readonly SourcedEmailPattern[], configName: string): string {
  if (patterns.length === 0) {
    return "excluded emails: none (set excludeEmails in the config or --exclude-emails)\n";
  }
  const width = Math.max(...patterns.map(({ pattern }) => pattern.length));
  const rows = patterns.map(({ pattern, source }) => `  ${pattern.padEnd(width)}  (${source === "excludeEmails" ? `excludeEmails in ${escapeControlCharacters(configName)}` : source})\n`);
  return `excluded emails, whose entries are not sent:\n${rows.join("")}`;
}

async function checkKey(options: RawCheckOptions): Promise<number> {
  const optionKey = options.publicKey?.trim() || undefined;
  const key = optionKey ?? (process.env["KOALA_PUBLIC_KEY"]?.trim() || undefined);
  if (key === undefined) {
    process.stdout.write("public key not checked: give it with --public-key <key> or KOALA_PUBLIC_KEY\n");
    return ExitCode.done;
  }
  if (options.publicKey !== undefined) {
    checkPublicKeyFormat(options.publicKey.trim(), "--public-key");
  }
  checkPublicKeyFormat(key, optionKey === undefined ? "KOALA_PUBLIC_KEY" : "--public-key");
  if (isShortPublicKey(key)) {
    writeWarning(shortKeyWarning(key));
  }
  const endpoint = parseEndpointOption(options.endpoint);
  // A base path may contain the key, which is never printed.
  const shownEndpoint = maskSecret(endpoint, key);
  // Said before the request, because a key exported for a trial against a local server would
  // otherwise reach the default endpoint unnoticed.
  const keySource = optionKey === undefined ? " from KOALA_PUBLIC_KEY" : "";
  process.stdout.write(`checking public key ${maskPublicKey(key)}${keySource} at ${shownEndpoint}\n`);
  const result = await checkPublicKey(endpoint, key, `koala-replay/${packageVersion()}`, KEY_CHECK_TIMEOUT_MS);
  if (result.ok) {
    process.stdout.write(`public key ${maskPublicKey(key)} accepted by ${shownEndpoint} (HTTP ${result.status})\n`);
    return ExitCode.done;
  }
  if (result.status === undefined) {
    writeError(
      `Koala could not be reached at ${shownEndpoint} (${describeNetworkError(result.errorCode)}), so the public key was not tested`,
      `check the --endpoint URL (default ${DEFAULT_ENDPOINT}), that the server is up, and the network, proxy or firewall in between`,
    );
    return ExitCode.fatalApi;
  }
  if (result.webPage === true) {
    writeError(
      `${shownEndpoint} returned a web page (HTML) to the key check, not an API response, so the public key was not tested`,
      `check the --endpoint URL (default ${DEFAULT_ENDPOINT}): it is probably a website`,
    );
    return ExitCode.fatalApi;
  }
  if (KEY_REJECTED_STATUSES.has(result.status)) {
    writeError(`public key ${maskPublicKey(key)} was not accepted by ${shownEndpoint}: ${maskSecret(result.message, key)}`, "copy the key from Koala (Settings › Install), and check --endpoint");
    return ExitCode.fatalApi;
  }
  writeError(
    `the key check at ${shownEndpoint} failed with HTTP ${result.status}, so the public key was not tested`,
    result.status >= 500 ? "Koala may be down for a moment: run check again later, and check --endpoint if it persists" : `check the --endpoint URL (default ${DEFAULT_ENDPOINT})`,
  );
  return ExitCode.fatalApi;
}

/** Warns that a key looks cut short, and explains its mask, which shows fewer characters than the 4 of a key of normal length. */
function shortKeyWarning(key: string): string {
  const characters = key.length === 1 ? "1 character" : `${key.length} characters`;
  const masking = maskPublicKey(key) === "****" ? "it is shown as **** alone" : "it is shown with at most a third of its characters";
  return (
    `the public key ${maskPublicKey(key)} has only ${characters}, which looks too short for a Koala public key (koala-replay expects at least ${MIN_PUBLIC_KEY_LENGTH})\n` +
    `  check that you copied all of it (Koala: Settings › Install); ${masking}, so that output never shows most of a key`
  );
}

const KEY_CHECK_TIMEOUT_MS = 10_000;

/** Statuses of the key check that mean the key, or the project it names, is wrong: the only ones that blame the key. */
const KEY_REJECTED_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

/** Names a network error code of the key check in words. */
function describeNetworkError(code: string | undefined): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused: nothing listens at that address";
    case "ENOTFOUND":
      return "host not found";
    case "EAI_AGAIN":
      return "DNS lookup failed";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return `timed out after ${KEY_CHECK_TIMEOUT_MS / 1000} s`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENETDOWN":
      return "network unreachable";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "connection closed before an answer";
    default:
      return code ?? "network error";
  }
}

/**
 * Runs `koala-replay check --trigger`: compiles the trigger, prints its error or its normalised form,
 * and evaluates it on an event when one is given. Returns 0 when it compiles (and matches the event),
 * 1 when it does not match the event, 2 when it is invalid.
 */
async function checkTriggerCommand(options: RawCheckOptions): Promise<number> {
  if (options.trigger === undefined) {
    return checkEventWithConfig(options.event as string, options.config);
  }
  const dialect = parseDialect(options.dialect);
  let trigger;
  try {
    trigger = compileTrigger(options.trigger, { dialect });
  } catch (error) {
    if (error instanceof TriggerSyntaxError) {
      writeStderr(`${wrapStderrMessage(error.message)}\n`);
      // After a did-you-mean for a misspelt field, advice to switch dialects would point the wrong way.
      if (dialect === "subscription" && !error.hint.startsWith("Did you mean") && isValidFql(options.trigger)) {
        const advice = "It is valid FQL, the language of --filter: add --dialect fql to check it as one. Mapping triggers in the config use the subscription dialect, where it is invalid.";
        writeStderr(`${wrapStderrMessage(advice)}\n`);
      }
      return ExitCode.usage;
    }
    throw error;
  }

  // The trigger's strings and escaped field names may hold control characters, which a terminal would run.
  process.stdout.write(`valid ${dialect === "fql" ? "FQL" : "trigger"}: ${escapeControlCharacters(trigger.normalized)}\n`);
  for (const warning of trigger.warnings) {
    writeWarning(warning);
  }
  if (options.event === undefined) {
    return ExitCode.done;
  }

  const event = readEvent(options.event);
  if (trigger.matches(event)) {
    process.stdout.write("matches the event\n");
    return ExitCode.done;
  }
  process.stdout.write("does not match the event; failing conditions:\n");
  explainMismatch(trigger, event, "");
  return ExitCode.incomplete;
}

/**
 * Runs `koala-replay check --event` without `--trigger`: evaluates the trigger of each mapping of
 * the config on the event. Returns 0 when an enabled mapping matches it, 1 when none does.
 */
async function checkEventWithConfig(eventOption: string, configOption: string | undefined): Promise<number> {
  const config = await loadConfigOption(configOption);
  const event = readEvent(eventOption);
  const source = config.source === "presets" ? "Segment's two presets (no config file found)" : displayPath(config.source, process.cwd());
  process.stdout.write(`the mappings of ${escapeControlCharacters(source)} on the event:\n`);
  let matched = 0;
  for (const mapping of config.mappings) {
    const trigger = compileTrigger(mapping.trigger);
    const name = escapeControlCharacters(mapping.name);
    const matches = trigger.matches(event);
    if (!mapping.enabled) {
      process.stdout.write(`  ${name}: disabled ("enabled": false), so it sends nothing; its trigger ${matches ? "matches" : "does not match"} the event\n`);
    } else if (matches) {
      matched += 1;
      process.stdout.write(`  ${name}: matches the event\n`);
    } else {
      process.stdout.write(`  ${name}: does not match the event; failing conditions:\n`);
      explainMismatch(trigger, event, "  ");
    }
  }
  if (event["type"] === "track" && isAnalyticsJsEvent(event)) {
    process.stdout.write(
      `${wrapStdoutNote("note: this is an analytics.js track event, which send skips by default, as Segment's Koala destination does (--browser-events skip); --browser-events include or before:<date> sends it.")}\n`,
    );
  }
  const preview = `${toolCommand()} preview FILE`;
  const verdict = matched === 0 ? "no enabled mapping matches the event, so send would skip it (no-mapping-matched)" : `${matched === 1 ? "1 mapping matches" : `${matched} mappings match`} the event; ${preview} shows the entries that the mappings make of a file's events`;
  process.stdout.write(`${wrapStdoutNote(verdict)}\n`);
  return matched === 0 ? ExitCode.incomplete : ExitCode.done;
}

/** Prints the conditions of `trigger` that reject `event`, with the event's values and notes, each line after `indent`. */
function explainMismatch(trigger: CompiledTrigger, event: SegmentEvent, indent: string): void {
  for (const condition of trigger.explainWithFields(event)) {
    process.stdout.write(`${indent}  ${escapeControlCharacters(condition.text)}\n`);
    if (condition.fields.length > 0) {
      process.stdout.write(`${indent}    in the event: ${escapeControlCharacters(describeFieldValues(condition.fields, event))}\n`);
    }
  }
  for (const test of trigger.findNegatedTestsWithoutText(event)) {
    process.stdout.write(`${indentLines(wrapStdoutNote(describeNegatedTestWithoutText(test)), indent)}\n`);
  }
  for (const { field, value } of trigger.findNumbersAsText(event)) {
    const text = escapeControlCharacters(JSON.stringify(value));
    process.stdout.write(`${indent}note: ${escapeControlCharacters(field)} is the text ${text}, not a number, and a comparison with a number never matches text.\n`);
    process.stdout.write(
      indent +
        (parseDecimal(value.trim()) === undefined
          ? `  Events from CSV files have text cells. --csv-numbers converts only plain decimals such as 1200 or -3.5, so ${text} stays text even with it.\n`
          : "  Events from CSV files have text cells: send, preview and inspect read number-like cells as numbers with --csv-numbers.\n"),
    );
  }
}

function indentLines(text: string, indent: string): string {
  return indent === "" ? text : text.split("\n").map((line) => `${indent}${line}`).join("\n");
}

/** Maximum length of the JSON text shown for a field of a failing condition, so that a large object stays on one or two lines. */
const MAX_SHOWN_VALUE_LENGTH = 80;

/** Describes the values that `fields` have in `event`, as `event = "Order completed", properties.total is absent`. */
function describeFieldValues(fields: readonly TriggerField[], event: SegmentEvent): string {
  return fields
    .map((field) => {
      const value = compilePathReader(field.segments)(event);
      if (value === undefined) {
        return `${field.name} is absent`;
      }
      const text = JSON.stringify(value);
      const truncated = text.length > MAX_SHOWN_VALUE_LENGTH ? `${text.slice(0, MAX_SHOWN_VALUE_LENGTH - 1)}…` : text;
      return `${field.name} = ${truncated}`;
    })
    .join(", ");
}

/**
 * Explains why a `!contains(…)` or `!match(…)` condition rejects an event whose field is not text. A
 * trigger written to leave out some values then also leaves out the events without the field, so
 * for an absent field the note gives the condition that keeps them.
 */
function describeNegatedTestWithoutText({ field, condition, found }: NegatedTestWithoutText): string {
  const rule = "!contains(…) and !match(…) match only a field whose value is text, as in Segment, so the condition rejects the event.";
  if (found !== "absent" && found !== "null") {
    return `note: ${field} is ${found === "array" || found === "object" ? "an" : "a"} ${found}, not text. ${rule}`;
  }
  const state = found === "null" ? "is null in the event" : "is absent from the event";
  return `note: ${field} ${state}. ${rule} To keep the events without ${field}, write:\n    (${field} = null or ${condition})`;
}

/** Wraps a note to the width of stdout. A trigger indented on a line of its own stays whole, so that it can be copied. */
function wrapStdoutNote(text: string): string {
  return wrapMessage(text, textWidth(process.stdout), (line) => line.startsWith("    "));
}

function isValidFql(text: string): boolean {
  try {
    compileTrigger(text, { dialect: "fql" });
    return true;
  } catch (error) {
    if (error instanceof TriggerSyntaxError) return false;
    throw error;
  }
}

function parseDialect(value: string | undefined): TriggerDialect {
  if (value === undefined || value === "subscription") {
    return "subscription";
  }
  if (value === "fql") {
    return "fql";
  }
  throw new UsageError(`invalid --dialect "${value}": expected subscription (mapping triggers, the default) or fql (--filter)`);
}

/** Reads `--event`: inline JSON, or the path of a file holding one JSON event. */
function readEvent(value: string): Record<string, unknown> {
  const inline = /^\s*[{[]/.test(value);
  const source = inline ? "--event" : `--event file ${value}`;
  const text = inline ? value : readEventFile(value);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    const hint = "give one JSON object inline ('{\"type\":\"track\"}') or the path of a file that contains one";
    if (!inline && holdsSeveralJsonLines(text)) {
      throw new UsageError(`invalid ${source}: it contains more than one event (JSON Lines)`, "copy one of its lines into a file of its own, or give it inline");
    }
    throw new UsageError(`invalid ${source}: ${(error as Error).message}`, hint);
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new UsageError(`invalid ${source}: expected a JSON object`);
  }
  return event as Record<string, unknown>;
}

function readEventFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new UsageError(`--event file not found: ${path}`, "give the path of a file that contains one JSON event, or the event inline ('{\"type\":\"track\"}')");
    }
    if (code === "EISDIR") {
      throw new UsageError(`--event names a directory: ${path}`, "give the path of a file that contains one JSON event");
    }
    throw new UsageError(`--event file could not be read: ${path} (${code ?? (error as Error).message})`, "check its permissions, or give the path of a readable file that contains one JSON event");
  }
}

/** Checks whether a text is JSON Lines of several objects, which JSON.parse rejects after the first. */
function holdsSeveralJsonLines(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length < 2) {
    return false;
  }
  try {
    JSON.parse(lines[0] as string);
    JSON.parse(lines[1] as string);
    return true;
  } catch {
    return false;
  }
}
