import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { defaultMapping } from "../../src/koala/fields.js";
import { runCli } from "../helpers/run-cli.js";

// Start-up time is measured by `npm run bench`. These tests guard what it depends on: which modules
// a command loads. Each module the CLI loads costs compile time, and liquidjs, string-width and
// undici take tens of milliseconds each to load, so they are loaded only by the runs that use them.

let directory: string;
let preload: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-startup-"));
  // The hook runs on a loader thread and is called for every ES module. require.cache lists the
  // CommonJS modules, including those loaded with createRequire, for which no ESM hook is called.
  const hook = join(directory, "hook.mjs");
  writeFileSync(
    hook,
    `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.startsWith("file:")) appendFileSync(process.env.MODULE_LOG, url + "\\n");
  return next(url, context);
}
`,
  );
  preload = join(directory, "preload.mjs");
  writeFileSync(
    preload,
    `import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";
if (isMainThread) {
  register(${JSON.stringify(pathToFileURL(hook).href)});
  process.on("exit", () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache).map((path) => pathToFileURL(path).href);
    appendFileSync(process.env.MODULE_LOG, loaded.join("\\n") + "\\n");
  });
}
`,
  );
});

/** Runs the CLI and returns the project-relative paths of the modules its main thread loaded. */
async function modulesLoadedBy(args: readonly string[]): Promise<string[]> {
  const log = join(directory, `modules-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, "");
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, MODULE_LOG: log } });
  expect(result.status, result.stderr).toBe(0);
  const root = pathToFileURL(join(import.meta.dirname, "..", "..")).href + "/";
  return [...new Set(readFileSync(log, "utf8").split("\n"))].filter((url) => url.startsWith(root)).map((url) => url.slice(root.length));
}

function packages(modules: readonly string[]): Set<string> {
  return new Set(modules.flatMap((path) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []));
}

describe("modules loaded at start-up", () => {
  test("--version loads no pipeline module", async () => {
    const modules = await modulesLoadedBy(["--version"]);

    expect(modules).toContain("dist/cli/program.js");
    expect(modules.filter((path) => /^dist\/(?!cli\/)/.test(path))).toEqual([]);
    expect([...packages(modules)]).toEqual(["commander"]);
  });

  test("dry run without @liquid loads neither", async () => {
    const modules = await modulesLoadedBy(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"]);

    expect(modules).toContain("dist/pipeline/run-replay.js");
    expect(packages(modules)).not.toContain("undici");
    expect(packages(modules)).not.toContain("liquidjs");
    expect(packages(modules)).not.toContain("string-width");
  });

  test("non-ASCII summary loads string-width", async () => {
    // The summary names the types of the events that no mapping matched.
    const events = join(directory, "unmatched.jsonl");
    writeFileSync(events, `${JSON.stringify({ type: "événement", messageId: "m1" })}\n`);

    const modules = await modulesLoadedBy(["send", "--dry-run", "--no-stitch", events]);

    expect(packages(modules)).toContain("string-width");
  });

  test("@liquid mapping loads liquidjs", async () => {
    const config = join(directory, "liquid.json");
    const mapping = { ...defaultMapping("trackEvent"), event: { "@liquid": "{{ event | upcase }}" } };
    writeFileSync(config, JSON.stringify({ mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] }));

    const modules = await modulesLoadedBy(["send", "--dry-run", "--no-stitch", "--config", config, "fixtures/archives/spec"]);

    expect(packages(modules)).toContain("liquidjs");
  });
});
