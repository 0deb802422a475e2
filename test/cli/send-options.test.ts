import { CommanderError, type Command } from "commander";
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/cli/errors.js";
import { buildProgram } from "../../src/cli/program.js";
import { csvTableWarning, resolveSendSettings, type SendSettings } from "../../src/cli/send-options.js";

const unused = async (): Promise<number> => {
  throw new Error("only send is parsed here");
};

/** Parses `koala-replay send <argv>` through the real program and resolves the settings, without running anything. */
async function parseSend(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<SendSettings> {
  let settings: SendSettings | undefined;
  const program = buildProgram({
    send: async (inputs, options) => {
      settings = resolveSendSettings(inputs, options, env);
      return 0;
    },
    preview: unused,
    inspect: unused,
    init: unused,
    check: unused,
  });
  silence(program);
  await program.parseAsync(["send", ...argv], { from: "user" });
  if (settings === undefined) {
    throw new Error("send did not run");
  }
  return settings;
}

function silence(program: Command): void {
  for (const command of [program, ...program.commands]) {
    command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  }
}

/** Every row ends with this input; stdin would need --no-stitch or --identities. */
const input = "in.jsonl";

const defaults = {
  inputs: [input],
  readOnceInputs: [],
  publicKey: "pk_env_0123456789",
  dryRun: false,
  endpoint: "https://api2.getkoala.com",
  delivery: {
    concurrency: 8,
    adaptiveConcurrency: true,
    maxRps: undefined,
    maxBatchSize: 30,
    timeoutMs: 30_000,
    maxAttempts: 10,
    maxOutageMs: 120_000,
    statePath: undefined,
    resume: false,
    restart: false,
    deadLetterPath: undefined,
  },
  browserEvents: { kind: "skip" },
  browserEventsText: "skip",
  format: undefined,
  quiet: false,
  verbose: false,
  json: false,
  reportPath: undefined,
  notSentPath: undefined,
  progress: true,
  configPath: undefined,
  csv: { convertNumbers: false },
  stitch: true,
  identitiesFile: undefined,
  filters: [],
  excludeEmails: [],
};
const keyInEnv = { KOALA_PUBLIC_KEY: "pk_env_0123456789" };

describe("send options: argv to settings", () => {
  test.each<[string, string[], Partial<SendSettings>]>([
    ["no option", [], {}],
    ["inputs in order", ["b.jsonl", "a/"], { inputs: ["b.jsonl", "a/", input] }],
    ["stdin with --no-stitch", ["--no-stitch", "-"], { inputs: ["-", input], readOnceInputs: [{ input: "-", kind: "standard input" }], stitch: false }],
    ["--config", ["--config", "backfill.json"], { configPath: "backfill.json" }],
    ["-c", ["-c", "backfill.json"], { configPath: "backfill.json" }],
    ["--filter", ["--filter", 'event = "Signed Up"'], { filters: [{ label: "--filter", text: 'event = "Signed Up"' }] }],
    ["--csv-numbers", ["--csv-numbers"], { csv: { convertNumbers: true } }],
    ["--identities", ["--identities", "users.csv"], { identitiesFile: "users.csv" }],
    ["--exclude-emails", ["--exclude-emails", " *@yourcompany.com , ceo@partner.example"], { excludeEmails: ["*@yourcompany.com", "ceo@partner.example"] }],
    ["--public-key wins over the environment", ["--public-key", " pk_flag_0123456789 "], { publicKey: "pk_flag_0123456789" }],
    ["--dry-run", ["--dry-run"], { dryRun: true }],
    ["--endpoint drops trailing slashes", ["--endpoint", "http://127.0.0.1:8080/"], { endpoint: "http://127.0.0.1:8080" }],
    ["--concurrency", ["--concurrency", "16"], { delivery: { ...defaults.delivery, concurrency: 16 } }],
    ["--no-adaptive-concurrency", ["--no-adaptive-concurrency"], { delivery: { ...defaults.delivery, adaptiveConcurrency: false } }],
    ["--max-rps", ["--max-rps", "50"], { delivery: { ...defaults.delivery, maxRps: 50 } }],
    ["--max-batch-size", ["--max-batch-size", "1"], { delivery: { ...defaults.delivery, maxBatchSize: 1 } }],
    ["--timeout-ms", ["--timeout-ms", "5000"], { delivery: { ...defaults.delivery, timeoutMs: 5000 } }],
    ["--max-attempts", ["--max-attempts", "3"], { delivery: { ...defaults.delivery, maxAttempts: 3 } }],
    ["--max-outage-ms", ["--max-outage-ms", "5000"], { delivery: { ...defaults.delivery, maxOutageMs: 5_000 } }],
    ["--state and --resume", ["--state", "run.state.json", "--resume"], { delivery: { ...defaults.delivery, statePath: "run.state.json", resume: true } }],
    ["--restart", ["--restart"], { delivery: { ...defaults.delivery, restart: true } }],
    ["--dead-letter", ["--dead-letter", "failed.jsonl"], { delivery: { ...defaults.delivery, deadLetterPath: "failed.jsonl" } }],
    ["--browser-events include", ["--browser-events", "include"], { browserEvents: { kind: "include" }, browserEventsText: "include" }],
    [
      "--browser-events before:<date>",
      ["--browser-events", "before:2024-03-01"],
      { browserEvents: { kind: "before", beforeMs: Date.parse("2024-03-01"), date: "2024-03-01" }, browserEventsText: "before:2024-03-01" },
    ],
    ["--format csv", ["--format", "csv"], { format: "csv" }],
    ["--format ndjson", ["--format", "ndjson"], { format: "jsonl" }],
    ["-q", ["-q"], { quiet: true }],
    ["--quiet", ["--quiet"], { quiet: true }],
    ["-v", ["-v"], { verbose: true }],
    ["--verbose", ["--verbose"], { verbose: true }],
    ["--json", ["--json"], { json: true }],
    ["--report", ["--report", "out/run.json"], { reportPath: "out/run.json" }],
    ["--report with --dry-run", ["--dry-run", "--report", "run.json"], { dryRun: true, reportPath: "run.json" }],
    ["--not-sent", ["--not-sent", "out/not-sent.ndjson"], { notSentPath: "out/not-sent.ndjson" }],
    ["--no-progress", ["--no-progress"], { progress: false }],
    ["options after inputs", ["a.jsonl", "--dry-run"], { inputs: ["a.jsonl", input], dryRun: true }],
  ])("%s", async (_name, argv, expected) => {
    const settings = await parseSend([...argv, input], keyInEnv);

    expect(settings).toEqual({ ...defaults, ...expected });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  test("dry run needs no public key", async () => {
    const settings = await parseSend(["--dry-run", input]);

    expect(settings.publicKey).toBeUndefined();
  });
});

describe("send options: rejected argv", () => {
  test.each<[string, string[], string]>([
    ["missing public key", [], "missing Koala public key"],
    ["--json with --dry-run", ["--json", "--dry-run"], "--json cannot be combined with --dry-run"],
    ["--public-key placeholder", ["--public-key", "<public key>"], "it is the placeholder in angle brackets"],
    ["--public-key masked", ["--public-key", "pk_a****"], "it contains *, as a masked key does"],
    ["--public-key with a space", ["--public-key", "pk_a 0123456789"], "contains no spaces, control characters"],
    ["--public-key empty", ["--public-key", " "], "--public-key is empty"],
    ["--verbose with --quiet", ["--verbose", "--quiet"], "--verbose and --quiet cannot be combined"],
    ["--concurrency 0", ["--concurrency", "0", "--dry-run"], 'invalid --concurrency "0"'],
    ["--concurrency not a number", ["--concurrency", "lots", "--dry-run"], 'invalid --concurrency "lots"'],
    ["--concurrency in hex", ["--concurrency", "0x10", "--dry-run"], 'invalid --concurrency "0x10"'],
    ["--max-batch-size with an exponent", ["--max-batch-size", "1e1", "--dry-run"], 'invalid --max-batch-size "1e1"'],
    ["--endpoint without a scheme", ["--endpoint", "api2.getkoala.com", "--dry-run"], 'invalid --endpoint "api2.getkoala.com"'],
    ["--endpoint ftp", ["--endpoint", "ftp://example.com", "--dry-run"], 'invalid --endpoint "ftp://example.com"'],
    ["--endpoint with the project path", ["--endpoint", "https://api2.getkoala.com/web/projects/pk_live_0123456789abcdef", "--dry-run"], 'invalid --endpoint "https://api2.getkoala.com/web/projects/pk_l****"'],
    ["--endpoint with a password", ["--endpoint", "https://user:secret@proxy.example/koala", "--dry-run"], 'invalid --endpoint "https://****@proxy.example/koala"'],
    ["--endpoint not http, with a password", ["--endpoint", "ftp://user:secret@proxy.example/koala", "--dry-run"], 'invalid --endpoint "ftp://****@proxy.example/koala"'],
    ["--endpoint with a query", ["--endpoint", "https://proxy.example/koala?token=1", "--dry-run"], "a query string or fragment is never sent"],
    ["--browser-events unknown", ["--browser-events", "sometimes", "--dry-run"], 'invalid --browser-events value "sometimes"'],
    ["--report -", ["--report", "-", "--dry-run"], 'invalid --report "-"'],
    ["--not-sent -", ["--not-sent", "-", "--dry-run"], 'invalid --not-sent "-"'],
    ["--not-sent empty", ["--not-sent", " ", "--dry-run"], 'invalid --not-sent " "'],
    ["--csv-type unknown", ["--csv-type", "purchase", "--dry-run"], 'invalid --csv-type "purchase"'],
    ["--max-batch-size 31", ["--max-batch-size", "31", "--dry-run"], 'invalid --max-batch-size "31"'],
    ["--max-rps 0", ["--max-rps", "0", "--dry-run"], 'invalid --max-rps "0"'],
    ["--exclude-emails without @", ["--exclude-emails", "yourcompany.com", "--dry-run"], 'invalid --exclude-emails pattern "yourcompany.com": it has no "@"'],
    ["--exclude-emails empty", ["--exclude-emails", "", "--dry-run"], 'invalid --exclude-emails pattern "": the pattern is empty'],
  ])("%s", async (_name, argv, message) => {
    const error = await parseSend([...argv, input]).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(message);
    expect((error as UsageError).exitCode).toBe(2);
  });

  test("--json with --dry-run names --report as the way out", async () => {
    const error = (await parseSend(["--json", "--dry-run", input]).catch((caught: unknown) => caught)) as UsageError;

    expect(error.hint).toContain("--report");
  });

  test("--since not a date says invalid once", async () => {
    const error = (await parseSend(["--since", "yesterday", "--dry-run", input]).catch((caught: unknown) => caught)) as UsageError;

    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^invalid --since "yesterday": expected an ISO-8601 date/);
    expect(error.message.match(/invalid/gi)).toHaveLength(1);
    expect(error.hint).toContain("without a zone are UTC");
  });

  test("--since after --until names both", async () => {
    const error = (await parseSend(["--since", "2024-02-01", "--until", "2024-01-01", "--dry-run", input]).catch((caught: unknown) => caught)) as UsageError;

    expect(error.message).toBe("the time window is empty: --since 2024-02-01 is not before --until 2024-01-01.");
  });

  test("help says zoneless times are UTC", () => {
    for (const name of ["send", "preview", "inspect"]) {
      const help = buildProgram().commands.find((command) => command.name() === name)?.helpInformation() ?? "";

      expect(help.replace(/\s+/g, " "), name).toContain("date or time (UTC unless it has a zone)");
    }
  });

  test.each<[string, string[], string]>([
    ["unknown option", ["--timeout", "5"], "commander.unknownOption"],
    ["--format outside its choices", ["--format", "xml"], "commander.invalidArgument"],
    ["--report without a path", ["--report"], "commander.optionMissingArgument"],
  ])("%s is a commander error", async (_name, argv, code) => {
    const error = await parseSend([input, ...argv], keyInEnv).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).code).toBe(code);
  });
});

describe("--csv-table close to a standard table", () => {
  test.each([
    ["pagez", "pages"],
    ["page", "pages"],
    ["identify", "identifies"],
    ["user", "users"],
  ])("%s suggests %s", (table, standard) => {
    expect(csvTableWarning(table)).toBe(
      `--csv-table ${table} is not a standard table, so the rows are read as track events of a per-event table named ${table}. Did you mean --csv-table ${standard}?`,
    );
  });

  test.each([["pages"], ["order_completed"], ["signed_up"]])("%s gets no warning", (table) => {
    expect(csvTableWarning(table)).toBeUndefined();
  });
});
