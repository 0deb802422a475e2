import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { InputFormat } from "../inputs/read-input.js";
import { parseBrowserEventsPolicy, type BrowserEventsPolicy } from "../pipeline/browser-events.js";
import { buildForecastStitcher, SendForecast, type ForecastStitching, type StitcherSetup } from "../pipeline/send-forecast.js";
import type { IdentityGraphStats } from "../identity/index.js";
import { checkStitchingInputs } from "../identity/index.js";
import { EVENT_TYPES, isEventType, type EventType } from "../inputs/csv/event-type.js";
import { givenTableNames, STANDARD_TABLE_TYPES, type CsvTableSettings } from "../inputs/csv/table.js";
import { findReadOnceInputs, type ReadOnceInput } from "../inputs/read-once.js";
import { closestMatch } from "../mappings/suggest.js";
import { maskPublicKey } from "../reporting/mask.js";
import { compileTrigger, timeWindowTrigger, TriggerSyntaxError } from "../triggers/index.js";
import { describeEmailPatternProblem, type EmailExclusion } from "../pipeline/email-exclusion.js";
import { checkPublicKeyFormat } from "./public-key.js";
import { UsageError } from "./errors.js";
import { isStdinTerminal, resolveInputs, terminalInputNotice } from "./stdin-input.js";
import { toolCommand } from "./tool-command.js";
import { writeStderr } from "./stdout-pipe.js";
import { writeWarning } from "./warning.js";
import { DEFAULT_CONCURRENCY, DEFAULT_ENDPOINT } from "./option-defaults.js";


/** Options of `send` as commander hands them over: strings, before validation. */
export interface RawSendOptions {
  publicKey?: string;
  dryRun?: boolean;
  endpoint?: string;
  concurrency?: string;
  adaptiveConcurrency?: boolean;
  maxRps?: string;
  maxBatchSize?: string;
  timeoutMs?: string;
  maxAttempts?: string;
  maxOutageMs?: string;
  state?: string;
  resume?: boolean;
  restart?: boolean;
  deadLetter?: string;
  browserEvents?: string;
  format?: string;
  quiet?: boolean;
  filter?: string;
  config?: string;
  /** Each `--csv-table`: `<table>` for every CSV file, or `<table>=<file>` for one. */
  csvTable?: string[];
  stitch?: boolean;
  identities?: string;
  excludeEmails?: string;
  csvType?: string;
  csvNumbers?: boolean;
  since?: string;
  until?: string;
  verbose?: boolean;
  json?: boolean;
  report?: string;
  notSent?: string;
  /** False with `--no-progress`. */
  progress?: boolean;
}

/** Validated options of `send`, resolved once at start-up. */
export interface SendSettings {
  readonly inputs: readonly string[];
  /** The inputs that can be read only once (stdin, named pipes, pipes from `<(…)`), which no resume can read again. */
  readonly readOnceInputs: readonly ReadOnceInput[];
  readonly publicKey: string | undefined;
  readonly dryRun: boolean;
  readonly endpoint: string;
  /** Options of the delivery stage: batching, throttling, retries, checkpoint and dead letters. */
  readonly delivery: {
    readonly concurrency: number;
    readonly adaptiveConcurrency: boolean;
    readonly maxRps: number | undefined;
    readonly maxBatchSize: number;
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    /** How long Koala may not respond while requests fail before the run stops, resumable. */
    readonly maxOutageMs: number;
    readonly statePath: string | undefined;
    readonly resume: boolean;
    /** Whether to replace the checkpoint of an earlier run that did not finish and send everything again. */
    readonly restart: boolean;
    readonly deadLetterPath: string | undefined;
  };
  readonly browserEvents: BrowserEventsPolicy;
  readonly browserEventsText: string;
  readonly format: InputFormat | undefined;
  readonly quiet: boolean;
  /** The config file given with --config; without it, koala-replay.config.json in the working directory, or the presets. */
  readonly configPath: string | undefined;
  readonly csv: CsvSettings;
  readonly stitch: boolean;
  readonly identitiesFile: string | undefined;
  /** Email patterns of `--exclude-emails`, which add to those of the config. */
  readonly excludeEmails: readonly string[];
  /** Full-FQL triggers every event must match, labelled with the option they came from. */
  readonly filters: readonly { label: string; text: string }[];
  /** Logs each retry and each entry given up on, with its reason. */
  readonly verbose: boolean;
  /** Prints the run report as JSON on stdout instead of the text summary on stderr. */
  readonly json: boolean;
  /** File the run report is written to as JSON. */
  readonly reportPath: string | undefined;
  /** File of `--not-sent`: one JSON line per event or entry skipped, invalid or unreadable. */
  readonly notSentPath: string | undefined;
  /** Whether a progress line may be shown; it still needs a terminal, and no `--quiet` or CI. */
  readonly progress: boolean;
}

/**
 * Validates the raw options of `send` against the environment and returns frozen settings, or
 * throws a UsageError naming the option, the rule and the value.
 */
export function resolveSendSettings(inputs: readonly string[], raw: RawSendOptions, env: NodeJS.ProcessEnv, stdinIsTerminal = isStdinTerminal()): SendSettings {
  const resolvedInputs = resolveInputs(inputs, stdinIsTerminal, "send");
  const dryRun = raw.dryRun === true;
  if (raw.verbose === true && raw.quiet === true) {
    throw new UsageError("--verbose and --quiet cannot be combined", "use --verbose to see each retry and dead letter, or --quiet to print only errors");
  }
  if (raw.resume === true && raw.restart === true) {
    throw new UsageError("--resume and --restart cannot be combined", "give --resume to continue the earlier run, or --restart to start over and send everything again");
  }
  if (raw.json === true && dryRun) {
    throw new UsageError(
      "--json cannot be combined with --dry-run, because a dry run prints the requests on stdout",
      `to keep the run's report as JSON in a dry run, use --report <path> instead: ${toolCommand()} send --dry-run --report report.json …`,
    );
  }
  if (raw.publicKey !== undefined) {
    checkPublicKeyFormat(raw.publicKey.trim(), "--public-key");
  }
  const publicKey = nonEmpty(raw.publicKey) ?? nonEmpty(env["KOALA_PUBLIC_KEY"]);
  if (raw.publicKey === undefined && publicKey !== undefined) {
    checkPublicKeyFormat(publicKey, "KOALA_PUBLIC_KEY");
  }
  if (publicKey === undefined && !dryRun) {
    throw new UsageError(
      "missing Koala public key",
      "give it with --public-key <key> or the KOALA_PUBLIC_KEY environment variable (Koala: Settings › Install), or preview with --dry-run",
    );
  }
  const browserEventsText = raw.browserEvents ?? "skip";
  let browserEvents: BrowserEventsPolicy;
  try {
    browserEvents = parseBrowserEventsPolicy(browserEventsText);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (resolvedInputs.filter((input) => input === "-").length > 1) {
    throw new UsageError("stdin (-) is given more than once", "standard input can be read only once: give - a single time");
  }
  const stitch = raw.stitch !== false;
  const readOnceInputs = findReadOnceInputs(resolvedInputs);
  const stitchingProblem = checkStitchingInputs({
    readsStdin: resolvedInputs.includes("-"),
    readOnceFiles: readOnceInputs.filter((input) => input.input !== "-"),
    stitch,
    identitiesFile: raw.identities,
  });
  if (stitchingProblem !== undefined) {
    throw new UsageError(stitchingProblem);
  }
  return Object.freeze({
    inputs: resolvedInputs,
    readOnceInputs,
    stitch,
    identitiesFile: raw.identities,
    publicKey,
    dryRun,
    endpoint: parseEndpointOption(raw.endpoint),
    delivery: resolveDeliveryOptions(raw),
    browserEvents,
    browserEventsText,
    format: parseFormat(raw.format),
    quiet: raw.quiet === true,
    configPath: raw.config,
    csv: resolveCsvOptions(raw),
    filters: resolveFilters(raw),
    excludeEmails: parseExcludeEmailsOption(raw.excludeEmails),
    verbose: raw.verbose === true,
    json: raw.json === true,
    reportPath: parseReportPath(raw.report),
    notSentPath: parseNotSentPath(raw.notSent),
    progress: raw.progress !== false,
  });
}

function resolveDeliveryOptions(raw: RawSendOptions): SendSettings["delivery"] {
  return Object.freeze({
    concurrency: parsePositiveInteger("--concurrency", raw.concurrency, DEFAULT_CONCURRENCY, 256),
    adaptiveConcurrency: raw.adaptiveConcurrency !== false,
    maxRps: raw.maxRps === undefined ? undefined : parsePositiveInteger("--max-rps", raw.maxRps, 1, 100_000),
    maxBatchSize: parsePositiveInteger("--max-batch-size", raw.maxBatchSize, 30, 30),
    timeoutMs: parsePositiveInteger("--timeout-ms", raw.timeoutMs, 30_000, 600_000),
    maxAttempts: parsePositiveInteger("--max-attempts", raw.maxAttempts, 10, 100),
    maxOutageMs: parsePositiveInteger("--max-outage-ms", raw.maxOutageMs, 120_000, 24 * 3_600_000),
    statePath: parseFilePathOption("--state", raw.state),
    resume: raw.resume === true,
    restart: raw.restart === true,
    deadLetterPath: parseFilePathOption("--dead-letter", raw.deadLetter),
  });
}

/** The CSV options of send, preview and inspect. */
export type CsvSettings = CsvTableSettings & { type?: EventType; convertNumbers: boolean };

/** Validates the CSV options shared by send, preview and inspect. */
export function resolveCsvOptions(raw: Pick<RawSendOptions, "csvTable" | "csvType" | "csvNumbers">): CsvSettings {
  const csv: CsvSettings = { convertNumbers: raw.csvNumbers === true, ...parseCsvTables(raw.csvTable ?? []) };
  if (raw.csvType !== undefined) {
    if (!isEventType(raw.csvType)) {
      throw new UsageError(`invalid --csv-type "${raw.csvType}": expected one of ${EVENT_TYPES.join(", ")}`);
    }
    csv.type = raw.csvType;
  }
  return csv;
}

/**
 * Parses the values of `--csv-table`: one `<table>` for every CSV file, and any number of
 * `<table>=<file>` for single files, whose paths are kept absolute so that a file found in a folder matches.
 */
function parseCsvTables(values: readonly string[]): CsvTableSettings {
  const settings: { table?: string; tablesByFile?: Record<string, string> } = {};
  for (const value of values) {
    const separator = value.indexOf("=");
    const table = separator === -1 ? value : value.slice(0, separator);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new UsageError(
        `invalid --csv-table "${value}": expected a warehouse table name such as tracks, identifies, users, pages or order_completed, ` +
          "or such a name, =, and the file it applies to (pages=export.csv)",
      );
    }
    if (separator === -1) {
      if (settings.table !== undefined && settings.table !== table.toLowerCase()) {
        throw new UsageError(
          `--csv-table is given twice for every CSV file (${settings.table} and ${value})`,
          "give one table for every file, and the tables of single files as --csv-table <table>=<file>",
        );
      }
      settings.table = table.toLowerCase();
      continue;
    }
    const file = value.slice(separator + 1);
    if (file === "") {
      throw new UsageError(`invalid --csv-table "${value}": the file after = is missing`, `give the CSV file that is an export of ${table}, as in --csv-table ${table}=export.csv`);
    }
    if (!existsSync(file)) {
      throw new UsageError(`invalid --csv-table "${value}": the file ${file} does not exist`, "give the path of the CSV file as the inputs name it, relative to the working directory");
    }
    settings.tablesByFile = { ...settings.tablesByFile, [resolve(file)]: table.toLowerCase() };
  }
  return settings;
}

/** Returns the warnings of `csvTableWarning` for every table that `--csv-table` names. */
export function csvTableWarnings(csv: CsvTableSettings): string[] {
  return givenTableNames(csv)
    .map((table) => csvTableWarning(table))
    .filter((warning) => warning !== undefined);
}

/**
 * Returns a warning when `--csv-table` names no standard table but is close to one (`pagez`,
 * `page`), because any other name is read as a per-event table of track events, silently.
 */
export function csvTableWarning(table: string | undefined): string | undefined {
  if (table === undefined || STANDARD_TABLE_TYPES.has(table)) {
    return undefined;
  }
  const closest = closestMatch(table, [...STANDARD_TABLE_TYPES.keys()]);
  if (closest === undefined) {
    return undefined;
  }
  return `--csv-table ${table} is not a standard table, so the rows are read as track events of a per-event table named ${table}. Did you mean --csv-table ${closest}?`;
}

/** Returns the warning for `--identities` given with `--no-stitch`, which `send`, `preview` and `inspect` print. */
export function ignoredIdentitiesWarning(identitiesFile: string): string {
  return `--identities ${identitiesFile} is ignored, because --no-stitch turns identity stitching off. Leave out --no-stitch to use the file.`;
}

/**
 * Resolves identity stitching for `inspect` and `preview` as `send` resolves it: on unless
 * `--no-stitch`, with the `--identities` file if given. Stitching reads the inputs twice, and stdin
 * or a pipe can be read only once. For such inputs without `--identities`, where send stops with a
 * usage error, these commands count without stitching and their output gives the reason.
 */
export function resolveForecastStitching(inputs: readonly string[], raw: { stitch?: boolean; identities?: string }): ForecastStitching {
  if (raw.stitch === false) {
    return { stitch: false, reason: "no-stitch" };
  }
  const readsStdin = inputs.includes("-");
  if (raw.identities !== undefined) {
    return { stitch: true, identitiesFile: raw.identities, readsStdin };
  }
  const readOnceInputs = findReadOnceInputs(inputs);
  if (readOnceInputs.length > 0) {
    const reason = readsStdin ? "stdin-without-identities" : "pipe-without-identities";
    return { stitch: false, reason, readOnceInputs };
  }
  return { stitch: true, identitiesFile: undefined, readsStdin: false };
}

/**
 * Starts the count of what `send` would send, for `inspect` and `preview`: warns about an
 * `--identities` file that `--no-stitch` ignores, then, with stitching on, reads the identities as
 * send's first pass does. The forecast leaves out the entries that `exclusion` excludes, as send
 * does. Call `finishStitching` once the last record is counted.
 */
export async function startSendForecast(
  inputs: readonly string[],
  stitching: ForecastStitching,
  identitiesFile: string | undefined,
  setup: Omit<StitcherSetup, "warn">,
  exclusion: EmailExclusion | undefined,
): Promise<{ forecast: SendForecast; finishStitching: () => IdentityGraphStats | undefined }> {
  const warn = writeWarning;
  if (!stitching.stitch && stitching.reason === "no-stitch" && identitiesFile !== undefined) {
    warn(ignoredIdentitiesWarning(identitiesFile));
  }
  const { stitcher, finish } = await buildForecastStitcher(inputs, stitching, { ...setup, warn });
  return { forecast: new SendForecast(stitcher, exclusion), finishStitching: finish };
}

/** Writes, for `inspect` and `preview`, the notice for events typed at a terminal and the `--csv-table` warning. */
export function writeInputWarnings(inputs: readonly string[], stdinIsTerminal: boolean, csv: CsvTableSettings): void {
  const notice = terminalInputNotice(inputs, stdinIsTerminal);
  if (notice !== undefined) {
    writeStderr(`${notice}\n`);
  }
  for (const warning of csvTableWarnings(csv)) {
    writeWarning(warning);
  }
}

/**
 * Parses `--exclude-emails` of `send`, `preview`, `inspect` and `check`: email patterns separated by commas,
 * with the spaces around each one ignored. Rejects the first pattern that would match nothing.
 */
export function parseExcludeEmailsOption(value: string | undefined): string[] {
  if (value === undefined) {
    return [];
  }
  const patterns = value.split(",").map((pattern) => pattern.trim());
  for (const pattern of patterns) {
    const problem = describeEmailPatternProblem(pattern);
    if (problem === undefined) {
      continue;
    }
    const where = pattern === "" && value.trim() !== "" ? " (nothing between two commas, or before or after one)" : "";
    throw new UsageError(
      `invalid --exclude-emails pattern ${JSON.stringify(pattern)}${where}: ${problem}`,
      `give email patterns separated by commas, such as --exclude-emails '*@yourcompany.com,ceo@partner.example'`,
    );
  }
  return patterns;
}

/** Returns the triggers of `--filter`, `--since` and `--until`, shared by `send`, `preview` and `inspect`. */
export function resolveFilters(raw: { filter?: string; since?: string; until?: string }): Array<{ label: string; text: string }> {
  const filters: Array<{ label: string; text: string }> = [];
  if (raw.filter !== undefined) {
    filters.push({ label: "--filter", text: raw.filter });
  }
  if (raw.since !== undefined || raw.until !== undefined) {
    try {
      filters.push({ label: "--since/--until", text: timeWindowTrigger({ since: raw.since, until: raw.until }, { since: "--since", until: "--until" }) });
    } catch (error) {
      const message = (error as Error).message;
      throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1), "dates and times without a zone are UTC, so add one for another zone, as in 2024-01-31T12:00:00+01:00");
    }
  }
  return filters;
}

/**
 * Lists the warnings of the `--filter` trigger, such as `and` mixed with `or`, formatted for
 * `writeWarning`. An invalid filter gives none here, because compiling the rules reports it.
 */
export function describeFilterWarnings(filters: readonly { label: string; text: string }[]): string[] {
  return filters.flatMap((filter) => {
    if (filter.label !== "--filter") return [];
    try {
      return compileTrigger(filter.text, { dialect: "fql" }).warnings.map((warning) => `--filter: ${warning}`);
    } catch (error) {
      if (error instanceof TriggerSyntaxError) return [];
      throw error;
    }
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function parsePositiveInteger(option: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) {
    return fallback;
  }
  // Digits only: Number() would also take "0x10", "1e1" and " 8 ", which the message does not promise.
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new UsageError(`invalid ${option} "${value}": expected a whole number from 1 to ${max}`);
  }
  return number;
}

/** Parses `--endpoint` for `send`, `preview` and `check`: an http or https URL, without its trailing slashes. */
export function parseEndpointOption(value: string = DEFAULT_ENDPOINT): string {
  // A printed command puts this placeholder where a key given with --public-key was in the endpoint.
  if (value.includes("<public key>")) {
    throw new UsageError(
      `invalid --endpoint "${value}": it contains the placeholder <public key> of a printed command`,
      "replace the placeholder with your Koala public key, as in --public-key",
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid --endpoint "${value}": expected an http or https URL such as ${DEFAULT_ENDPOINT}`);
  }
  // These messages never print a public key in the path or a password, which are secrets.
  const hasCredentials = url.username !== "" || url.password !== "";
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    const maskedEndpoint = hasCredentials ? `${url.protocol}//****@${url.host}${url.pathname}` : value;
    throw new UsageError(`invalid --endpoint "${maskedEndpoint}": expected an http or https URL such as ${DEFAULT_ENDPOINT}`);
  }
  if (/\/web\/projects(\/|$)/.test(url.pathname)) {
    throw new UsageError(
      `invalid --endpoint "${maskProjectKey(url)}": expected the base URL of Koala's API, such as ${DEFAULT_ENDPOINT}, without /web/projects/<key>`,
      "koala-replay adds /web/projects/<key>/batch to it, with the key of --public-key or KOALA_PUBLIC_KEY",
    );
  }
  if (hasCredentials) {
    throw new UsageError(
      `invalid --endpoint "${url.protocol}//****@${url.host}${url.pathname}": a user name or password in the URL is never sent with the requests`,
      `give the URL without them, such as ${url.origin}${url.pathname.replace(/\/+$/, "")}`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new UsageError(
      `invalid --endpoint "${value}": a query string or fragment is never sent with the requests`,
      `give the URL without them, such as ${url.origin}${url.pathname.replace(/\/+$/, "")}`,
    );
  }
  return value.replace(/\/+$/, "");
}

/** Returns the endpoint URL with the path segment after /web/projects/, usually a public key, masked. */
function maskProjectKey(url: URL): string {
  const path = url.pathname.replace(/(\/web\/projects\/)([^/]+)/, (_match, prefix: string, key: string) => `${prefix}${maskPublicKey(decodeURIComponent(key))}`);
  return `${url.origin}${path}`;
}

export function parseFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value === "jsonl" || value === "json" || value === "csv") {
    return value;
  }
  // Newline-delimited JSON is the same format as JSON Lines, and folder walks read .ndjson files too.
  if (value === "ndjson") {
    return "jsonl";
  }
  throw new UsageError(`invalid --format "${value}": expected jsonl (or ndjson), json or csv (without it, the format is detected from the content)`);
}

/** Rejects an empty path, which the file system cannot create, before the run starts. */
function parseFilePathOption(option: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") {
    throw new UsageError(`invalid ${option} "${value}": expected a file path`);
  }
  return value;
}

function parseNotSentPath(value: string | undefined): string | undefined {
  if (value === "-") {
    throw new UsageError(`invalid --not-sent "${value}": expected a file path`, "to read the lines as they are written, give a named pipe or /dev/stderr");
  }
  return parseFilePathOption("--not-sent", value);
}

function parseReportPath(value: string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value.trim() === "" || value === "-") {
    throw new UsageError(`invalid --report "${value}": expected a file path`, "to print the report on stdout instead, use --json");
  }
  return value;
}
