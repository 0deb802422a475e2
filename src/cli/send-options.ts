import type { InputFormat } from "../inputs/read-input.js";
import { parseBrowserEventsPolicy, type BrowserEventsPolicy } from "../pipeline/browser-events.js";
import { UsageError } from "./errors.js";

export const DEFAULT_ENDPOINT = "https://api2.getkoala.com";
export const DEFAULT_CONCURRENCY = 8;

/** Options of `send` as commander hands them over: strings, before validation. */
export interface RawSendOptions {
  publicKey?: string;
  dryRun?: boolean;
  endpoint?: string;
  concurrency?: string;
  browserEvents?: string;
  format?: string;
  quiet?: boolean;
}

/** Validated options of `send`, resolved once at start-up. */
export interface SendSettings {
  readonly inputs: readonly string[];
  readonly publicKey: string | undefined;
  readonly dryRun: boolean;
  readonly endpoint: string;
  readonly concurrency: number;
  readonly browserEvents: BrowserEventsPolicy;
  readonly browserEventsText: string;
  readonly format: InputFormat | undefined;
  readonly quiet: boolean;
}

/**
 * Validates the raw options of `send` against the environment and returns frozen settings, or
 * throws a UsageError naming the option, the rule and the value.
 */
export function resolveSendSettings(inputs: readonly string[], raw: RawSendOptions, env: NodeJS.ProcessEnv): SendSettings {
  const dryRun = raw.dryRun === true;
  const publicKey = nonEmpty(raw.publicKey) ?? nonEmpty(env["KOALA_PUBLIC_KEY"]);
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
  return Object.freeze({
    inputs: inputs.length === 0 ? ["-"] : [...inputs],
    publicKey,
    dryRun,
    endpoint: parseEndpoint(raw.endpoint ?? DEFAULT_ENDPOINT),
    concurrency: parsePositiveInteger("--concurrency", raw.concurrency, DEFAULT_CONCURRENCY, 256),
    browserEvents,
    browserEventsText,
    format: parseFormat(raw.format),
    quiet: raw.quiet === true,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function parsePositiveInteger(option: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) {
    return fallback;
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new UsageError(`invalid ${option} "${value}": expected a whole number from 1 to ${max}`);
  }
  return number;
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid --endpoint "${value}": expected an http or https URL such as ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid --endpoint "${value}": expected an http or https URL such as ${DEFAULT_ENDPOINT}`);
  }
  return value.replace(/\/+$/, "");
}

function parseFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value === "jsonl" || value === "json" || value === "csv") {
    return value;
  }
  throw new UsageError(`invalid --format "${value}": expected jsonl, json or csv (without it, the format is detected from the content)`);
}
