import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { printedCommand, projectRoot, runCli } from "../helpers/run-cli.js";
import { linesWiderThan, unwrapSummary } from "../helpers/summary-text.js";

const KEY = "pk_check_0123456789";
let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Returns a port on 127.0.0.1 that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Segment's two presets as a config, both disabled. */
function disabledPresets(): { mappings: Array<Record<string, unknown>> } {
  const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
  const traitsMapping = { traits: { "@path": "$.traits" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
  return {
    mappings: [
      { name: "Track Event", enabled: false, trigger: 'type = "track"', action: "trackEvent", mapping },
      { name: "Identify Visitor", enabled: false, trigger: 'type = "identify"', action: "identifyVisitor", mapping: traitsMapping },
    ],
  };
}

describe("check", () => {
  test("presets and an accepted key exit 0", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["check", "--endpoint", emulator.url], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("config valid: 2 mappings from Segment's two presets (no config file found)");
    expect(result.stdout).toContain(`checking public key pk_c**** from KOALA_PUBLIC_KEY at ${emulator.url}\n`);
    expect(result.stdout).toContain("public key pk_c**** accepted");
    expect(result.stdout).not.toContain(KEY);
    expect(emulator.requests.map((request) => request.path)).toEqual([`/web/projects/${KEY}/auth`]);
  });

  test("rejected key exits 3 with the key masked", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", "pk_wrong_0123456789"], { cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain("copy the key from Koala");
    expect(result.stderr.match(/Settings › Install/g)).toHaveLength(1);
    expect(result.stderr).toContain("pk_w****");
    expect(result.stderr).not.toContain("pk_wrong_0123456789");
  });

  test("short key: masked by a third, and a warning", async () => {
    emulator = await startKoalaEmulator({ publicKey: "pk_test" });
    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", "pk_test"], { cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("public key pk**** accepted");
    expect(unwrapSummary(result.stderr)).toContain("warning: the public key pk**** has only 7 characters, which looks too short for a Koala public key (koala-replay expects at least 12)");
    expect(result.stderr).toContain("check that you copied all of it (Koala: Settings › Install)");
    expect(`${result.stdout}${result.stderr}`).not.toContain("pk_test");
  });

  test("two short keys are told apart", async () => {
    emulator = await startKoalaEmulator({ publicKey: "ab_key_1" });
    const cwd = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const accepted = await runCli(["check", "--endpoint", emulator.url, "--public-key", "ab_key_1"], { cwd });
    const rejected = await runCli(["check", "--endpoint", emulator.url, "--public-key", "cd_key_1"], { cwd });

    expect(accepted.stdout).toContain(`checking public key ab**** at ${emulator.url}\n`);
    expect(accepted.stdout).toContain("public key ab**** accepted");
    expect(rejected.status).toBe(3);
    expect(rejected.stderr).toContain("error: public key cd**** was not accepted");
    expect(rejected.stderr).not.toContain("cd_key_1");
  });

  test("key of two characters shows none of them", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", "q7"], { cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain("warning: the public key **** has only 2 characters");
    expect(unwrapSummary(result.stderr)).toContain("it is shown as **** alone");
    expect(result.stderr).toContain("/web/projects/****/auth returned 401");
    expect(result.stderr).not.toContain("q7");
  });

  test("key of normal length gets no warning", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["check", "--endpoint", emulator.url, "--public-key", KEY], { cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.stderr).toBe("");
  });

  test("closed port: unreachable, not a bad key", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(["check", "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain(`error: Koala could not be reached at ${endpoint} (connection refused: nothing listens at that address)`);
    expect(result.stderr).toContain("check the --endpoint URL");
    expect(result.stderr).not.toContain("copy the key");
    expect(result.stderr).not.toContain("not accepted");
  });

  test("website answering 200: key not tested", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html><body>Sign in</body></html>");
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await runCli(["check", "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });
    server.close();

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain(`error: ${endpoint} returned a web page (HTML) to the key check, not an API response, so the public key was not tested`);
    expect(result.stdout).not.toContain("accepted by");
  });

  test("invalid --endpoint is a usage error", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    for (const endpoint of ["not a url", "ftp://127.0.0.1:9"]) {
      const result = await runCli(["check", "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: KEY }, cwd });

      expect(result.status, endpoint).toBe(2);
      expect(unwrapSummary(result.stderr), endpoint).toContain(`error: invalid --endpoint "${endpoint}": expected an http or https URL such as https://api2.getkoala.com`);
      expect(result.stderr, endpoint).not.toContain("internal error");
    }
  });

  test("key in an invalid --endpoint is masked", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const endpoints = [`http://127.0.0.1:9/?key=${KEY}`, `http://127.0.0.1:9/#${KEY}`, `ftp://127.0.0.1:9/${KEY}`, `not a url ${KEY}`];
    for (const endpoint of endpoints) {
      for (const command of [["check"], ["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"], ["preview", "fixtures/archives/spec"]]) {
        for (const keyArgs of [[], ["--public-key", KEY], [`--public-key=${KEY}`]]) {
          const result = await runCli([...command, ...keyArgs, "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: keyArgs.length === 0 ? KEY : undefined }, cwd });
          const label = `${command[0]} ${keyArgs.join(" ")} ${endpoint}`;

          expect(result.status, label).toBe(2);
          expect(result.stderr, label).toContain("invalid --endpoint");
          expect(result.stderr, label).not.toContain(KEY);
        }
      }
    }
  });

  test("key in the endpoint path is masked", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/${KEY}`;
    const result = await runCli(["check", "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

    expect(result.status).toBe(3);
    expect(unwrapSummary(result.stderr)).toContain("error: Koala could not be reached at http://127.0.0.1:");
    expect(result.stderr).not.toContain(KEY);
  });

  test("key in a commander error is masked", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const cases = [
      // A misspelt option name: commander quotes the whole argument, value included.
      { args: ["send", "--dry-run", "--public-key", KEY, `--endpont=http://127.0.0.1:9/${KEY}`], env: {}, quoted: "unknown option '--endpont=…' (its value is not shown)" },
      { args: ["check", `--public-key=${KEY}`, `--endpont=http://127.0.0.1:9/?key=${KEY}`], env: {}, quoted: "unknown option '--endpont=…' (its value is not shown)" },
      // The key given with a misspelt option, so koala-replay does not know it is the key.
      { args: ["send", "--dry-run", `--publicKey=${KEY}`, "events.jsonl"], env: {}, quoted: "unknown option '--publicKey=…' (its value is not shown)" },
      // The key pasted in place of the command.
      { args: [KEY], env: { KOALA_PUBLIC_KEY: KEY }, quoted: "unknown command 'pk_c****'" },
    ];
    for (const { args, env, quoted } of cases) {
      const result = await runCli(args, { env, cwd });
      const label = args.join(" ");

      expect(result.status, label).toBe(2);
      expect(unwrapSummary(result.stderr), label).toContain(quoted);
      expect(result.stderr, label).not.toContain(KEY);
    }
  });

  test("preview rejects an invalid --endpoint", async () => {
    const result = await runCli(["preview", "--endpoint", "not a url", "fixtures/archives/spec"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('error: invalid --endpoint "not a url": expected an http or https URL');
    expect(result.stdout).toBe("");
  });

  test("server error: key not tested, not rejected", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const result = await runCli(["check", "--endpoint", endpoint], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: mkdtempSync(join(tmpdir(), "koala-replay-check-")) });

      expect(result.status).toBe(3);
      expect(unwrapSummary(result.stderr)).toContain(`error: the key check at ${endpoint} failed with HTTP 503, so the public key was not tested`);
      expect(result.stderr).not.toContain("copy the key");
    } finally {
      server.close();
    }
  });

  test("every mapping disabled: warns what to do", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(disabledPresets(), null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain('warning: every mapping of koala-replay.config.json is disabled ("enabled": false), so send would send nothing');
    expect(result.stderr).toContain('set "enabled": true on the mappings to use');
  });

  test("one mapping enabled: no warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const config = disabledPresets();
    config.mappings[0]!.enabled = true;
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("warning:");
  });

  test("two mappings that may take one event's message_id: warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const config = disabledPresets();
    for (const mapping of config.mappings) mapping["enabled"] = true;
    const track: Record<string, unknown> = config.mappings[0]!;
    const orders = { ...track, name: "Orders", trigger: 'type = "track" and event = "Order Completed"' };
    const refunds = { ...orders, name: "Refunds", trigger: 'type = "track" and event = "Order Refunded"', mapping: { ...(track["mapping"] as object), message_id: { "@template": "{{messageId}}-refunds" } } };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify({ mappings: [...config.mappings, orders, refunds] }, null, 2));
    const result = await runCli(["check"], { cwd: directory });
    const warnings = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(warnings).toContain(
      'warning: koala-replay.config.json: the mappings "Track Event" and "Orders" both take message_id from {"@path":"$.messageId"}, and an event may match both triggers',
    );
    expect(warnings).toContain('such as {"@template": "{{messageId}}-orders"}');
    // Identify Visitor's trigger excludes track calls, and Refunds has a message_id of its own.
    expect(warnings.split("both take message_id").length - 1).toBe(1);
  });

  // NOTE: check compares the message_id directives as JSON text, so a template or a path spelt
  // otherwise that gives the same messageId is missed. send still warns at the first such event.
  test("message_id spelt as a template: warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const config = disabledPresets();
    const track: Record<string, unknown> = { ...config.mappings[0]!, enabled: true };
    const orders = { ...track, name: "Orders", trigger: 'type = "track" and event = "Order Completed"', mapping: { ...(track["mapping"] as object), message_id: { "@template": "{{messageId}}" } } };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify({ mappings: [track, orders] }, null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain('the mappings "Track Event" and "Orders" both take message_id');
  });

  test("track trigger reading traits.*: warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const trigger = 'type = "track" and !contains(traits.email, "@example.com")';
    const config = { mappings: [{ name: "Track Event", trigger, action: "trackEvent", mapping: disabledPresets().mappings[0]!["mapping"] }] };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain(
      "warning: koala-replay.config.json /mappings/0/trigger (line 5, column 7): `traits.email` reads the top-level traits, which Segment's track calls do not have: they carry the user's traits in context.traits. Write `context.traits.email` to read them there.",
    );
  });

  test("invalid trigger in the config exits 2 with its JSON path", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const config = {
      mappings: [{ name: "Orders", enabled: true, trigger: 'type = "track" and', action: "trackEvent", mapping: { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } } }],
    };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("/mappings/0/trigger");
    expect(result.stderr).toContain("expected a condition");
  });

  test("config problems: each message under its pointer", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const mapping = { event: { "@path": "$.event" }, sent_at: { "@pth": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const config = { mappings: [{ name: "Orders", trigger: 'tpye = "track"', action: "trackEvent", mapping }] };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    const result = await runCli(["check"], { cwd: directory });
    const lines = result.stderr.split("\n");
    const triggerAt = lines.indexOf("  /mappings/0/trigger (line 5, column 7):");
    const directiveAt = lines.indexOf("  /mappings/0/mapping/sent_at/@pth (line 12, column 11):");

    expect(result.status).toBe(2);
    expect(triggerAt).toBeGreaterThan(0);
    expect(directiveAt).toBeGreaterThan(triggerAt);
    expect(lines.slice(triggerAt + 1, directiveAt).every((line) => line.startsWith("    "))).toBe(true);
    expect(lines[triggerAt + 1]).toMatch(/^    Invalid trigger at line 1, column 1:/);
    expect(lines[directiveAt + 1]).toMatch(/^    unknown directive @pth\./);
    expect(unwrapSummary(result.stderr)).toContain(`To compare the file with a valid config, write one with: ${printedCommand(directory)} init example.config.json`);
  });

  test("mapping list fits 80 columns", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-"));
    const trigger = 'type = "page" and contains(properties.url, "getdbt.com") and properties.title != "Pricing"';
    const mapping = { event: { "@path": "$.name" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const config = { mappings: [{ name: "Pages on getdbt.com \u001b[2J", trigger, action: "trackEvent", mapping }] };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(linesWiderThan(result.stdout, 80)).toEqual([]);
    expect(result.stdout).not.toContain("\u001b");
    expect(unwrapSummary(result.stdout)).toContain(`on Pages on getdbt.com \\u001b[2J (trackEvent): ${trigger}`);
  });
});

describe("unclosed {{ in a @template", () => {
  /** Writes a config whose event template misses its closing braces, and whose literal text contains "{{". */
  function writeTemplateConfig(): string {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-template-"));
    const mapping = {
      email: { "@path": "$.context.traits.email" },
      event: { "@template": "Clicked {{properties.plan" },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.messageId" },
      properties: { "@literal": { note: "{{not a template" } },
    };
    const config = { mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    return directory;
  }

  const warning =
    'warning: koala-replay.config.json /mappings/0/mapping/event/@template (line 12, column 11): the template "Clicked {{properties.plan" ' +
    'has a "{{" at position 8 that no "}}" closes, so the braces are sent as text. To insert a value, write its path between "{{" and "}}"';

  test.each([
    [["check"]],
    [["send", "--dry-run", "--no-stitch", "events.jsonl"]],
    [["preview", "--no-stitch", "events.jsonl"]],
    [["inspect", "--no-stitch", "events.jsonl"]],
  ])("warns with its place (%j)", async (args) => {
    const directory = writeTemplateConfig();
    const event = { type: "track", event: "Clicked", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", properties: { plan: "pro" }, context: { traits: { email: "ada@example.com" } } };
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify(event)}\n`);

    const result = await runCli(args, { cwd: directory });
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(stderr).toContain(warning);
    expect(stderr).toContain('For text that contains "{{" and no placeholder, use {"@literal": …} instead');
    expect(result.stderr.match(/warning:/g)).toHaveLength(1);
  });

  test("send --quiet prints no warning", async () => {
    const directory = writeTemplateConfig();
    writeFileSync(join(directory, "events.jsonl"), "");

    const result = await runCli(["send", "--dry-run", "--quiet", "--no-stitch", "events.jsonl"], { cwd: directory });

    expect(result.stderr).not.toContain("warning:");
  });

  test("sent as text", async () => {
    const directory = writeTemplateConfig();
    const event = { type: "track", event: "Clicked", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", properties: { plan: "pro" }, context: { traits: { email: "ada@example.com" } } };
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify(event)}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "events.jsonl"], { cwd: directory });

    expect(result.stdout).toContain('"event":"Clicked {{properties.plan"');
  });
});

describe("trigger warnings in a config", () => {
  /** Writes a config whose trigger has a match() pattern that Segment's trigger parser reads as a prefix. */
  function writeGlobTriggerConfig(): string {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-trigger-warning-"));
    const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const config = { mappings: [{ name: "Sales", trigger: 'type = "track" and match(event, "[SALE]*")', action: "trackEvent", mapping }] };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
    writeFileSync(join(directory, "events.jsonl"), "");
    return directory;
  }

  const warning =
    'warning: koala-replay.config.json /mappings/0/trigger (line 5, column 7): "[SALE]*" is a glob pattern here, ' +
    "but Segment's trigger parser reads only \"prefix*\" or \"*suffix\" and takes ?, [ and \\ as plain characters, so it selects other events.";

  test.each([[["check"]], [["send", "--dry-run", "--no-stitch", "events.jsonl"]]])("warns with its place (%j)", async (args) => {
    const result = await runCli(args, { cwd: writeGlobTriggerConfig() });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain(warning);
    expect(result.stderr.match(/warning:/g)).toHaveLength(1);
  });
});

describe("--config path problems", () => {
  test.each([
    ["check", "--config", "no-such-config.json"],
    ["send", "--dry-run", "--config", "no-such-config.json", "fixtures/archives/spec"],
    ["inspect", "--config", "no-such-config.json", "fixtures/archives/spec"],
    ["preview", "--config", "no-such-config.json", "fixtures/archives/spec"],
  ])("missing config: one message (%s)", async (...args) => {
    const result = await runCli(args);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `error: config file not found: no-such-config.json (in ${resolve(projectRoot)})\n` +
        `  check the path given with --config, or create a config there with:\n    ${printedCommand()} init no-such-config.json\n`,
    );
    expect(result.stdout).toBe("");
  });

  test("config path that is a directory", async () => {
    const result = await runCli(["check", "--config", "fixtures"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: --config names a directory: fixtures");
    expect(unwrapSummary(result.stderr)).toContain("--config fixtures/koala-replay.config.json");
    expect(result.stderr).not.toContain("Invalid config");
  });
});

describe("check --trigger", () => {
  test("valid trigger prints its normalised form", async () => {
    const result = await runCli(["check", "--trigger", 'type = "track"   and  event = "Signed Up"']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('valid trigger: type = "track" and event = "Signed Up"');
  });

  test("syntax error shows line, column and a caret, exit 2", async () => {
    const result = await runCli(["check", "--trigger", 'type = "track" and']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("line 1, column 19");
    expect(result.stderr).toMatch(/\n\s+\^/);
  });

  test.each([
    'lowercase(event) = "signed up"',
    "length(properties.items) > 2",
    'typeof(properties.plan) = "string"',
    'event in ["A", "B"]',
    'anonymousId = "a-1"',
    'contains(lowercase(event), "x")',
  ])("FQL %s suggests --dialect fql", async (trigger) => {
    const result = await runCli(["check", "--trigger", trigger]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Invalid trigger at line 1");
    expect(result.stderr).toContain("add --dialect fql to check it");
  });

  test.each([
    ['"12"', "send, preview and inspect read number-like cells as numbers with --csv-numbers"],
    ['"1,200"', '"1,200" stays text even with it'],
  ])("number as text %s gets a note", async (total, advice) => {
    const event = `{"type":"track","properties":{"total":${total}}}`;
    const result = await runCli(["check", "--trigger", 'type = "track" and properties.total > 0', "--event", event]);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`note: properties.total is the text ${total}, not a number`);
    expect(result.stdout).toContain(advice);
  });

  test("number as number gets no note", async () => {
    const result = await runCli(["check", "--trigger", "properties.total > 20", "--event", '{"type":"track","properties":{"total":12}}']);

    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("note:");
  });

  test("field outside the subset names --filter", async () => {
    const result = await runCli(["check", "--trigger", 'anonymousId = "x"'], { env: { COLUMNS: "500" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("a mapping's trigger cannot test `anonymousId`. To select events by it, give the condition with --filter");
    expect(result.stderr).not.toContain("compile the trigger");
  });

  test("misspelt field gets no FQL advice", async () => {
    const result = await runCli(["check", "--trigger", 'evnt = "Order Completed"']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Did you mean event?");
    expect(result.stderr).not.toContain("--dialect fql");
    expect(result.stderr).not.toContain("--filter");
  });

  test("FQL accepted with --dialect fql", async () => {
    const result = await runCli(["check", "--dialect", "fql", "--trigger", 'lowercase(event) = "signed up"']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('valid FQL: lowercase(event) = "signed up"');
  });

  test("invalid FQL gets no --dialect hint", async () => {
    const result = await runCli(["check", "--trigger", 'lowercase(event) = "x" and']);

    expect(result.status).toBe(2);
    expect(result.stderr).not.toContain("--dialect fql");
  });

  test("--event file not found", async () => {
    const result = await runCli(["check", "--trigger", 'event = "A"', "--event", "no-such-event.json"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: --event file not found: no-such-event.json\n");
    expect(result.stderr).not.toContain("is not valid JSON");
  });

  test("--event file of JSON Lines", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "koala-replay-check-")), "events.jsonl");
    writeFileSync(file, '{"type":"track","event":"A"}\n{"type":"track","event":"B"}\n');
    const result = await runCli(["check", "--trigger", 'event = "A"', "--event", file]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`error: invalid --event file ${file}: it contains more than one event (JSON Lines)`);
  });

  test("--event file of one event", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "koala-replay-check-")), "event.json");
    writeFileSync(file, '{"type":"track","event":"A"}\n');
    const result = await runCli(["check", "--trigger", 'event = "A"', "--event", file]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("matches the event");
  });

  test.each(["subscription", "fql"])("negated contains on an absent field gets a note (%s)", async (dialect) => {
    const trigger = 'type = "track" and !contains(traits.email, "@example.com")';
    const result = await runCli(["check", "--dialect", dialect, "--trigger", trigger, "--event", '{"type":"track","event":"A"}']);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stdout)).toContain(
      "note: traits.email is absent from the event. !contains(…) and !match(…) match only a field whose value is text, as in Segment, so the condition rejects the event. To keep the events without traits.email, write:",
    );
    expect(result.stdout).toContain('\n    (traits.email = null or !contains(traits.email, "@example.com"))\n');
  });

  test("suggested condition keeps the event without the field", async () => {
    const trigger = '(traits.email = null or !contains(traits.email, "@example.com"))';
    const without = await runCli(["check", "--trigger", trigger, "--event", '{"type":"identify"}']);
    const outsider = await runCli(["check", "--trigger", trigger, "--event", '{"type":"identify","traits":{"email":"a@other.org"}}']);
    const insider = await runCli(["check", "--trigger", trigger, "--event", '{"type":"identify","traits":{"email":"a@example.com"}}']);

    expect(without.status).toBe(0);
    expect(outsider.status).toBe(0);
    expect(insider.status).toBe(1);
  });

  test("negated match on a number gets a note", async () => {
    const result = await runCli(["check", "--trigger", '!match(properties.plan, "pro*")', "--event", '{"type":"track","properties":{"plan":12}}']);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stdout)).toContain("note: properties.plan is a number, not text. !contains(…) and !match(…) match only a field whose value is text");
    expect(result.stdout).not.toContain("= null or");
  });

  test("negated contains on text gets no note", async () => {
    const result = await runCli(["check", "--trigger", '!contains(event, "A")', "--event", '{"type":"track","event":"A"}']);

    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("note:");
  });

  test("control characters in a trigger are escaped", async () => {
    const trigger = 'event = "a\u001b[2Jb" and type = "x"';
    const result = await runCli(["check", "--trigger", trigger, "--event", '{"type":"track"}']);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('valid trigger: event = "a\\u001b[2Jb" and type = "x"\n');
    expect(result.stdout).toContain('failing conditions:\n  event = "a\\u001b[2Jb"\n');
    expect(result.stdout).not.toContain("\u001b");
  });

  test("negated contains in a matching operand gets no note", async () => {
    const trigger = 'type = "identify" and (properties.plan = "pro" or !contains(properties.email, "@example.com"))';
    const result = await runCli(["check", "--trigger", trigger, "--event", '{"type":"track","properties":{"plan":"pro"}}']);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('failing conditions:\n  type = "identify"\n');
    expect(result.stdout).not.toContain("note:");
  });

  test("negated contains on a null field says null", async () => {
    const trigger = '!contains(properties.email, "@example.com")';
    const result = await runCli(["check", "--trigger", trigger, "--event", '{"type":"track","properties":{"email":null}}']);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stdout)).toContain("note: properties.email is null in the event.");
    expect(result.stdout).toContain('\n    (properties.email = null or !contains(properties.email, "@example.com"))\n');
  });

  test("event that does not match exits 1 and names the failing condition", async () => {
    const result = await runCli(["check", "--trigger", 'type = "track" and event = "A"', "--event", '{"type":"track","event":"B"}']);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('event = "A"');
  });
});
