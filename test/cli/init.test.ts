import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { chooseSchemaReference } from "../../src/cli/schema-reference.js";
import { printedCommand, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const SCHEMA_FILE = "koala-replay.config.schema.json";
const checkoutSchema = join(projectRoot, "schema", SCHEMA_FILE);

let directory: string;

beforeEach(() => {
  directory = realpathSync(mkdtempSync(join(tmpdir(), "koala-replay-init-")));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function schemaOf(configPath: string): string {
  return (JSON.parse(readFileSync(configPath, "utf8")) as { $schema: string }).$schema;
}

/** Copies the built package into `project`/node_modules/koala-replay, as `npm install` would place it. */
function installPackage(project: string): string {
  const installed = join(project, "node_modules", "koala-replay");
  for (const entry of ["bin", "dist", "schema", "package.json"]) {
    cpSync(join(projectRoot, entry), join(installed, entry), { recursive: true });
  }
  // The package's own dependencies, which npm would install next to it.
  symlinkSync(join(projectRoot, "node_modules"), join(installed, "node_modules"), "dir");
  return installed;
}

describe("init $schema", () => {
  test("run from a checkout: points at its schema", async () => {
    const result = await runCli(["init"], { cwd: directory });
    const configPath = join(directory, "koala-replay.config.json");

    expect(result.status).toBe(0);
    expect(resolve(directory, schemaOf(configPath))).toBe(checkoutSchema);
    expect(result.stderr).not.toContain("note:");
    const check = await runCli(["check", "--config", configPath], { cwd: directory });
    expect(check.status).toBe(0);
  });

  test("config in a subdirectory", async () => {
    mkdirSync(join(directory, "configs"));
    await runCli(["init", "configs/backfill.json"], { cwd: directory });

    expect(resolve(directory, "configs", schemaOf(join(directory, "configs/backfill.json")))).toBe(checkoutSchema);
  });

  test("installed package: points into node_modules", async () => {
    const installed = installPackage(directory);
    mkdirSync(join(directory, "configs"));
    const run = promisify(execFile);
    await run(process.execPath, [join(installed, "bin/koala-replay.js"), "init"], { cwd: directory });
    await run(process.execPath, [join(installed, "bin/koala-replay.js"), "init", "configs/backfill.json"], { cwd: directory });

    expect(schemaOf(join(directory, "koala-replay.config.json"))).toBe(`./node_modules/koala-replay/schema/${SCHEMA_FILE}`);
    expect(schemaOf(join(directory, "configs/backfill.json"))).toBe(`../node_modules/koala-replay/schema/${SCHEMA_FILE}`);
    expect(existsSync(join(directory, "configs", schemaOf(join(directory, "configs/backfill.json"))))).toBe(true);
  });

  test("installed in the project, run from elsewhere", async () => {
    mkdirSync(join(directory, "node_modules/koala-replay/schema"), { recursive: true });
    cpSync(checkoutSchema, join(directory, "node_modules/koala-replay/schema", SCHEMA_FILE));
    await runCli(["init"], { cwd: directory });

    expect(schemaOf(join(directory, "koala-replay.config.json"))).toBe(`./node_modules/koala-replay/schema/${SCHEMA_FILE}`);
  });

  test("npx cache gets a note", () => {
    const cachedSchema = join(directory, "_npx", "0123abcd", "node_modules", "koala-replay", "schema", SCHEMA_FILE);
    mkdirSync(dirname(cachedSchema), { recursive: true });
    writeFileSync(cachedSchema, "{}");
    const project = join(directory, "project");
    mkdirSync(project);
    const chosen = chooseSchemaReference(join(project, "koala-replay.config.json"), cachedSchema);

    expect(chosen.reference).toBe(`../_npx/0123abcd/node_modules/koala-replay/schema/${SCHEMA_FILE}`);
    expect(chosen.note).toContain("npx's cache");
    expect(chosen.note).toContain("npm install --save-dev koala-replay");
  });

  test("missing schema file leaves $schema out", () => {
    const chosen = chooseSchemaReference(join(directory, "koala-replay.config.json"), join(directory, "no-such", SCHEMA_FILE));

    expect(chosen.reference).toBeUndefined();
    expect(chosen.note).toContain("was not found");
  });
});

describe("init next steps", () => {
  test("result on stdout, stderr empty", async () => {
    const result = await runCli(["init"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("wrote koala-replay.config.json\n  edit the mappings, then check them with:\n");
    expect(result.stderr).toBe("");
  });

  // A command broken over two lines runs its first half when pasted, so a narrow width must not break it.
  test("commands on lines of their own at 40 columns", async () => {
    const result = await runCli(["init", "backfill.json"], { cwd: directory, env: { COLUMNS: "40" } });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`\n    ${printedCommand(directory)} check --config backfill.json\n`);
    expect(result.stdout).toContain(`\n    ${printedCommand(directory)} preview --config backfill.json <inputs>\n`);
  });

  test("existing file: init command on its own line", async () => {
    writeFileSync(join(directory, "koala-replay.config.json"), "{}\n");
    const result = await runCli(["init"], { cwd: directory, env: { COLUMNS: "40" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`\n    ${printedCommand(directory)} init <path>\n`);
  });

  test("invalid config: init command on its own line", async () => {
    writeFileSync(join(directory, "broken.json"), '{"mappings": 3}\n');
    const result = await runCli(["check", "--config", "broken.json"], { cwd: directory, env: { COLUMNS: "40" } });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`\n    ${printedCommand(directory)} init example.config.json\n`);
  });
});

describe("init errors", () => {
  test("existing file left unchanged", async () => {
    const configPath = join(directory, "koala-replay.config.json");
    writeFileSync(configPath, "{}\n");
    const result = await runCli(["init"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("already exists and was left unchanged");
    expect(readFileSync(configPath, "utf8")).toBe("{}\n");
  });

  test("directory gets the default name", async () => {
    mkdirSync(join(directory, "configs"));
    const result = await runCli(["init", "configs"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(JSON.parse(readFileSync(join(directory, "configs", "koala-replay.config.json"), "utf8"))).toHaveProperty("mappings");
    expect(unwrapSummary(result.stdout)).toContain("--config configs/koala-replay.config.json");
  });

  test("missing directory names mkdir", async () => {
    const result = await runCli(["init", "no-such-directory/config.json"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`the directory ${join(directory, "no-such-directory")} does not exist`);
    expect(result.stderr).toContain("mkdir -p");
  });
});
