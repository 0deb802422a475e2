/**
 * Runs the test Koala emulator from the command line, for trying koala-replay against a local server
 * with faults: `npm run emulator -- --port 8080 --fault 5xx=0.1`. docs/development.md describes it.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startKoalaEmulator, type EmulatorFaults, type EmulatorRequest, type KoalaEmulator } from "./koala-emulator.js";

/** The key the emulator accepts unless --public-key gives another. */
export const DEFAULT_PUBLIC_KEY = "pk_emulator_0123456789";

/** Settings of one emulator started from the command line. */
export interface EmulatorCliOptions {
  port: number;
  publicKey: string;
  seed: number;
  faults: EmulatorFaults;
  /** Whether a line per request is left out. */
  quiet: boolean;
}

/** A command line the runner cannot use; it exits with status 2. */
export class EmulatorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmulatorUsageError";
  }
}

type FaultSetter = (faults: EmulatorFaults, value: string | undefined, name: string) => void;

/** The faults `--fault name=value` sets, with the help line of each. */
const FAULTS: ReadonlyArray<{ name: string; help: string; set: FaultSetter }> = [
  { name: "5xx", help: "5xx=<rate>       answer a share (0 to 1) of /batch requests 500 to 504", set: (faults, value, name) => (faults.serverErrorRate = parseRate(name, value)) },
  { name: "429", help: "429=<n>          answer every nth /batch request 429", set: (faults, value, name) => (faults.rateLimitEvery = parseWholeNumber(name, value, 1)) },
  { name: "retry-after", help: "retry-after=<s>  Retry-After of those 429s, in seconds (default: 1)", set: (faults, value, name) => (faults.retryAfterSeconds = parseWholeNumber(name, value, 0)) },
  { name: "drop", help: "drop=<rate>      close a share of /batch requests without a response", set: (faults, value, name) => (faults.dropRate = parseRate(name, value)) },
  { name: "slow", help: "slow=<rate>      answer a share of /batch requests after slow-ms", set: (faults, value, name) => (faults.slowRate = parseRate(name, value)) },
  { name: "slow-ms", help: "slow-ms=<ms>     delay of those slow answers (default: 200)", set: (faults, value, name) => (faults.slowDelayMs = parseWholeNumber(name, value, 0)) },
  { name: "status", help: "status=<code>    answer every /batch request with this HTTP status", set: (faults, value, name) => (faults.batchStatus = parseStatus(name, value)) },
  { name: "down", help: "down=<code>      answer every request, GET /auth included, with this HTTP\n                   status, as Koala does while it is down", set: (faults, value, name) => (faults.downStatus = parseStatus(name, value)) },
  {
    name: "500-entry",
    help: "500-entry=<regex>\n                   answer 500 to every /batch request with an entry whose\n                   event name or email matches the regular expression, as\n                   entries that crash the server would; GET /auth still\n                   succeeds",
    set: (faults, value, name) => (faults.serverErrorEntry = parseEntryPattern(name, value)),
  },
  { name: "endless-error", help: "endless-error    answer every /batch request 500 with an endless body", set: (faults, value, name) => (faults.endlessErrorBody = parseFlag(name, value)) },
  { name: "echo-path", help: "echo-path        put the request path, with the key, in error bodies", set: (faults, value, name) => (faults.echoPathInErrors = parseFlag(name, value)) },
  { name: "request-id", help: "request-id       put a request id of its own in every error body", set: (faults, value, name) => (faults.requestIdInErrors = parseFlag(name, value)) },
  {
    name: "rotate-key",
    help: "rotate-key=<n>:<key>\n                   after n /batch requests, accept only <key>, as when the\n                   project's key is regenerated: the old key gets 401",
    set: (faults, value, name) => (faults.rotateKey = parseKeyRotation(name, value)),
  },
];

export const EMULATOR_USAGE = `Usage: npm run emulator -- [options]
       node dist-emulator/cli.js [options]   (once npm run emulator built it)

Starts a local stand-in for Koala's collection API on 127.0.0.1. It checks
requests as Koala does, records each message_id once and injects the faults
asked for. It runs until Ctrl-C or SIGTERM, then prints its counts.

Options:
  --port <port>         port on 127.0.0.1 (default: 0, a free port, printed)
  --public-key <key>    the only key accepted; others get 401
                        (default: ${DEFAULT_PUBLIC_KEY})
  --seed <n>            seed of the random faults, to replay a pattern
                        (default: 1)
  --fault <name=value>  a fault to inject (below); repeat it for several
  --quiet               print no line per request
  -h, --help            print this help

Faults:
${FAULTS.map((fault) => `  ${fault.help}`).join("\n")}

Exit status:
  0    stopped by Ctrl-C or SIGTERM
  1    the port cannot be listened on
  2    an invalid option`;

/** Parses the runner's command line, or returns "help" for --help. Throws `EmulatorUsageError`. */
export function parseEmulatorArgs(argv: readonly string[]): EmulatorCliOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        port: { type: "string" },
        "public-key": { type: "string" },
        seed: { type: "string" },
        fault: { type: "string", multiple: true },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new EmulatorUsageError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help === true) {
    return "help";
  }
  const faults: EmulatorFaults = {};
  for (const fault of values.fault ?? []) {
    applyFault(faults, fault);
  }
  const publicKey = values["public-key"] ?? DEFAULT_PUBLIC_KEY;
  if (!isUsableKey(publicKey)) {
    throw new EmulatorUsageError(`invalid --public-key ${JSON.stringify(publicKey)}: expected a non-empty key without "/"`);
  }
  if (faults.rotateKey?.newKey === publicKey) {
    throw new EmulatorUsageError(`invalid --fault rotate-key: the new key is the --public-key ${JSON.stringify(publicKey)}; give another key`);
  }
  return {
    port: values.port === undefined ? 0 : parseWholeNumber("--port", values.port, 0, 65_535),
    publicKey,
    seed: values.seed === undefined ? 1 : parseWholeNumber("--seed", values.seed, 0),
    faults,
    quiet: values.quiet === true,
  };
}

function applyFault(faults: EmulatorFaults, text: string): void {
  const separator = text.indexOf("=");
  const name = separator === -1 ? text : text.slice(0, separator);
  const value = separator === -1 ? undefined : text.slice(separator + 1);
  const fault = FAULTS.find((candidate) => candidate.name === name);
  if (fault === undefined) {
    throw new EmulatorUsageError(`unknown --fault ${JSON.stringify(name)}: expected one of ${FAULTS.map((candidate) => candidate.name).join(", ")}`);
  }
  fault.set(faults, value, `--fault ${name}`);
}

function parseRate(name: string, value: string | undefined): number {
  // Decimal notation only: Number() would also take "0x1" and "1e-1".
  const rate = value !== undefined && /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (value === undefined || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new EmulatorUsageError(`invalid ${name}=${value ?? ""}: expected a share from 0 to 1, such as ${name.replace("--fault ", "")}=0.1`);
  }
  return rate;
}

function parseWholeNumber(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || number < min || number > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `${min} to ${max}`;
    throw new EmulatorUsageError(`invalid ${name} ${JSON.stringify(value ?? "")}: expected a whole number, ${range}`);
  }
  return number;
}

/** Parses a regular expression into a test of an entry's `event` and of the request's or the entry's email. */
function parseEntryPattern(name: string, value: string | undefined): NonNullable<EmulatorFaults["serverErrorEntry"]> {
  let pattern: RegExp;
  try {
    if (value === undefined || value === "") {
      throw new Error("empty");
    }
    pattern = new RegExp(value);
  } catch {
    throw new EmulatorUsageError(`invalid ${name}=${value ?? ""}: expected a regular expression, such as ${name.replace("--fault ", "")}=^Crash`);
  }
  return (entry, person) => {
    const traits = entry["traits"];
    const traitEmail = typeof traits === "object" && traits !== null ? (traits as Record<string, unknown>)["email"] : undefined;
    return [entry["event"], entry["email"], traitEmail, person.email].some((text) => typeof text === "string" && pattern.test(text));
  };
}

function parseStatus(name: string, value: string | undefined): number {
  return parseWholeNumber(name, value, 100, 599);
}

/** Parses `<n>:<key>`: the number of /batch requests that the old key may make, then the key accepted from then on. */
function parseKeyRotation(name: string, value: string | undefined): { afterBatches: number; newKey: string } {
  const separator = value?.indexOf(":") ?? -1;
  const newKey = value === undefined || separator === -1 ? "" : value.slice(separator + 1);
  if (value === undefined || separator === -1 || !isUsableKey(newKey)) {
    throw new EmulatorUsageError(`invalid ${name}=${value ?? ""}: expected <requests>:<new key>, such as ${name.replace("--fault ", "")}=100:pk_rotated_0123456789`);
  }
  return { afterBatches: parseWholeNumber(`${name} requests`, value.slice(0, separator), 0), newKey };
}

/** Returns whether a key can be a segment of the URL path of the emulator's routes: not empty, without "/". */
function isUsableKey(key: string): boolean {
  return key.trim() !== "" && !key.includes("/");
}

function parseFlag(name: string, value: string | undefined): boolean {
  if (value !== undefined && value !== "1" && value !== "true") {
    throw new EmulatorUsageError(`invalid ${name}=${value}: the fault takes no value`);
  }
  return true;
}

/** Where the runner writes: a line per request and the banner to `out`, errors and the final counts to `err`. */
export interface EmulatorCliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Starts the emulator for `options` and prints where it listens and how to send to it. */
export async function startEmulatorFromCli(options: EmulatorCliOptions, output: EmulatorCliOutput): Promise<KoalaEmulator> {
  const emulator = await startKoalaEmulator({
    publicKey: options.publicKey,
    seed: options.seed,
    faults: options.faults,
    port: options.port,
    keepRequests: false,
    onResponse: options.quiet ? undefined : (request) => output.out(formatRequestLine(request)),
  });
  output.out(`Koala emulator listening on ${emulator.url} (public key ${options.publicKey})`);
  // A checkpoint of its own keeps the trial out of the default one, which a later send to Koala resumes.
  output.out(`  KOALA_PUBLIC_KEY=${options.publicKey} npx koala-replay send --endpoint ${emulator.url} --state trial/state.json <inputs>`);
  // Outside the clone, a plain `npx koala-replay` would look for the package in the npm registry.
  const folder = packageFolder();
  output.out(`  (in another folder than ${folder}, write npx --prefix ${folder} koala-replay)`);
  return emulator;
}

/** Returns the folder of koala-replay's package.json, found upward from this file, or the working folder. */
function packageFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const packageJson = `${folder}/package.json`;
    if (existsSync(packageJson) && (JSON.parse(readFileSync(packageJson, "utf8")) as { name?: string }).name === "koala-replay") {
      return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) {
      return process.cwd();
    }
    folder = parent;
  }
}

/** Formats one completed request: status, method, path, entries and time taken. */
export function formatRequestLine(request: EmulatorRequest): string {
  const milliseconds = (request.endedAtMs - request.startedAtMs).toFixed(1);
  const entries = request.entryCount === 1 ? "1 entry" : `${request.entryCount} entries`;
  return `${request.status} ${request.method} ${request.path} ${entries} ${milliseconds} ms`;
}

/** Formats the counts the emulator kept, printed when it stops. */
export function formatEmulatorCounts(emulator: KoalaEmulator): string {
  const { stats } = emulator;
  const statuses = Object.entries(stats.statusCounts)
    .map(([status, count]) => `${status} ${count}`)
    .join(", ");
  return [
    `requests: ${stats.requests} (/batch: ${stats.batchRequests})`,
    `responses: ${statuses === "" ? "none" : statuses}`,
    `entries accepted: ${emulator.accepted.size} distinct message_ids, ${stats.duplicateEntries} received again`,
    `most requests at once: ${stats.maxConcurrent}, for one person: ${stats.maxConcurrentPerPerson}`,
  ].join("\n");
}

/** Runs the command line until SIGINT or SIGTERM, and returns the exit status. */
export async function runEmulatorCli(argv: readonly string[], output: EmulatorCliOutput, stopped: Promise<unknown>): Promise<number> {
  let options: EmulatorCliOptions | "help";
  try {
    options = parseEmulatorArgs(argv);
  } catch (error) {
    if (!(error instanceof EmulatorUsageError)) throw error;
    output.err(`error: ${error.message}\n  npm run emulator -- --help lists the options`);
    return 2;
  }
  if (options === "help") {
    output.out(EMULATOR_USAGE);
    return 0;
  }
  let emulator: KoalaEmulator;
  try {
    emulator = await startEmulatorFromCli(options, output);
  } catch (error) {
    output.err(`error: cannot listen on 127.0.0.1:${options.port} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})\n  give another --port, or 0 for a free one`);
    return 1;
  }
  await stopped;
  await emulator.close();
  output.err(formatEmulatorCounts(emulator));
  return 0;
}

function isMainModule(): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
}

if (isMainModule()) {
  const stopped = new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  const output: EmulatorCliOutput = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  process.exitCode = await runEmulatorCli(process.argv.slice(2), output, stopped);
}
