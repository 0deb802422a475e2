import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { presetMappings } from "../../src/koala/presets.js";
import { ConfigError, findDefaultConfig, initConfig, loadConfig, type ConfigProblem } from "../../src/mappings/index.js";

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "koala-replay-config-"));
});

function trackMapping(name: string): Record<string, unknown> {
  return structuredClone({ ...presetMappings()[0]!, name });
}

async function writeConfig(content: unknown, fileName = "koala-replay.config.json"): Promise<string> {
  const file = join(directory, fileName);
  await writeFile(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

async function problemsOf(load: Promise<unknown>): Promise<readonly ConfigProblem[]> {
  try {
    await load;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("the config loaded although it is invalid");
}

describe("loadConfig", () => {
  it("uses the presets without a config file", async () => {
    const loaded = await loadConfig(undefined, directory);
    expect(loaded.source).toBe("presets");
    expect(loaded.mappings).toEqual(presetMappings());
    expect(await findDefaultConfig(directory)).toBeUndefined();
  });

  it("finds koala-replay.config.json in the working directory", async () => {
    const file = await writeConfig({ mappings: [trackMapping("Orders")] });
    expect(await findDefaultConfig(directory)).toBe(file);
    const loaded = await loadConfig(undefined, directory);
    expect(loaded.source).toBe(file);
    expect(loaded.mappings.map((mapping) => mapping.name)).toEqual(["Orders"]);
    expect(loaded.mappings[0]!.enabled).toBe(true);
  });

  it("loads a given path relative to cwd", async () => {
    await writeConfig({ mappings: [{ ...trackMapping("Off"), enabled: false }] }, "other.json");
    const loaded = await loadConfig("other.json", directory);
    expect(loaded.mappings[0]!.enabled).toBe(false);
  });

  it("rejects 51 mappings", async () => {
    const mappings = Array.from({ length: 51 }, (_, index) => trackMapping(`Mapping ${index}`));
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings })));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.pointer).toBe("/mappings");
    expect(problems[0]!.message).toContain("51");
    expect(problems[0]!.message).toContain("50");
  });

  it("accepts 50 mappings", async () => {
    const mappings = Array.from({ length: 50 }, (_, index) => trackMapping(`Mapping ${index}`));
    const loaded = await loadConfig(await writeConfig({ mappings }));
    expect(loaded.mappings).toHaveLength(50);
  });

  it("suggests the key meant by a misspelt one", async () => {
    const mapping = trackMapping("Orders");
    mapping.trigerr = mapping.trigger;
    delete mapping.trigger;
    const problems = await problemsOf(loadConfig(await writeConfig({ mapings: [], mappings: [mapping] })));
    const pointers = problems.map((problem) => problem.pointer);
    expect(pointers).toContain("/mapings");
    expect(pointers).toContain("/mappings/0/trigerr");
    expect(pointers).toContain("/mappings/0/trigger");
    const misspelt = problems.find((problem) => problem.pointer === "/mappings/0/trigerr")!;
    expect(misspelt.message).toContain('Did you mean "trigger"?');
    expect(problems.find((problem) => problem.pointer === "/mapings")!.message).toContain('Did you mean "mappings"?');
  });

  it("rejects an unknown action", async () => {
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [{ ...trackMapping("Orders"), action: "trackEvents" }] })));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.pointer).toBe("/mappings/0/action");
    expect(problems[0]!.message).toContain('Did you mean "trackEvent"?');
  });

  it("rejects an unknown directive", async () => {
    const mapping = trackMapping("Orders");
    (mapping.mapping as Record<string, unknown>).event = { "@paht": "$.event" };
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.pointer).toBe("/mappings/0/mapping/event/@paht");
    expect(problems[0]!.message).toContain('Did you mean "@path"?');
  });

  it("rejects a field the action lacks", async () => {
    const mapping = trackMapping("Orders");
    (mapping.mapping as Record<string, unknown>).emial = { "@path": "$.email" };
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));
    expect(problems.map((problem) => problem.pointer)).toEqual(["/mappings/0/mapping/emial"]);
    expect(problems[0]!.message).toContain('Did you mean "email"?');
  });

  it("requires the action's required fields", async () => {
    const mapping = trackMapping("Orders");
    delete (mapping.mapping as Record<string, unknown>).message_id;
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.pointer).toBe("/mappings/0/mapping");
    expect(problems[0]!.message).toContain("message_id");
    expect(problems[0]!.message).toContain("$.messageId");
  });

  it("leaves an omitted optional field unmapped", async () => {
    const mapping = trackMapping("Orders");
    delete (mapping.mapping as Record<string, unknown>).context;
    const loaded = await loadConfig(await writeConfig({ mappings: [mapping] }));
    expect(Object.keys(loaded.mappings[0]!.mapping)).not.toContain("context");
  });

  it("reports bad JSON with line and column", async () => {
    const text = '{\n  "mappings": [\n    { "name": "x", }\n  ]\n}\n';
    const problems = await problemsOf(loadConfig(await writeConfig(text)));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(3);
    expect(problems[0]!.column).toBe(20);
    expect(problems[0]!.message).toContain("trailing comma");
  });

  it("reports an unexpected token with its position", async () => {
    const problems = await problemsOf(loadConfig(await writeConfig('{\n  "mappings": x\n}')));
    expect(problems[0]!.line).toBe(2);
    expect(problems[0]!.column).toBe(15);
  });

  it("lists every problem at once", async () => {
    const first = { ...trackMapping("Same"), action: "track" };
    const second = { ...trackMapping("Same"), trigger: "" };
    const third = { ...trackMapping("Third"), mapping: { ...presetMappings()[0]!.mapping, event: { "@path": 5 } } };
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [first, second, third, 7] })));
    expect(problems.map((problem) => problem.pointer).sort()).toEqual([
      "/mappings/0/action",
      "/mappings/1/name",
      "/mappings/1/trigger",
      "/mappings/2/mapping/event/@path",
      "/mappings/3",
    ]);
  });

  it("names the file and the pointers in its message", async () => {
    const file = await writeConfig({ mappings: [{ ...trackMapping("Orders"), action: "page" }] });
    await expect(loadConfig(file)).rejects.toThrow(`Invalid config ${file} (1 problem):\n  /mappings/0/action (line 7, column 7):\n    unknown action "page"`);
  });

  it("reports a missing file", async () => {
    const problems = await problemsOf(loadConfig("missing.json", directory));
    expect(problems[0]!.message).toContain("does not exist");
  });
});

describe("loadConfig positions", () => {
  it("gives each problem a line and column", async () => {
    const text = [
      "{",
      '  "mappings": [',
      "    {",
      '      "name": "Orders",',
      '      "trigerr": "type = \\"track\\"",',
      '      "action": "trackEvent",',
      '      "mapping": { "event": { "@paht": "$.event" } }',
      "    }",
      "  ]",
      "}",
    ].join("\n");
    const problems = await problemsOf(loadConfig(await writeConfig(text)));
    const byPointer = new Map(problems.map((problem) => [problem.pointer, problem]));
    expect(byPointer.get("/mappings/0/trigerr")).toMatchObject({ line: 5, column: 7 });
    expect(byPointer.get("/mappings/0/trigger")).toMatchObject({ line: 3, column: 5 });
    expect(byPointer.get("/mappings/0/mapping/event/@paht")).toMatchObject({ line: 7, column: 31 });
  });
});

describe("loadConfig duplicate keys", () => {
  const mapping = '"mapping": { "event": { "@path": "$.event" }, "sent_at": { "@path": "$.timestamp" }, "message_id": { "@path": "$.messageId" } }';

  it("rejects a key given twice", async () => {
    const text = [
      "{",
      '  "mappings": [',
      "    {",
      '      "name": "Orders",',
      '      "trigger": "type = \\"track\\"",',
      '      "action": "trackEvent",',
      '      "trigger": "type = \\"identify\\"",',
      `      ${mapping}`,
      "    }",
      "  ]",
      "}",
    ].join("\n");
    const problems = await problemsOf(loadConfig(await writeConfig(text)));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ pointer: "/mappings/0/trigger", line: 7, column: 7 });
    expect(problems[0]!.message).toBe(
      'the key "trigger" is given more than once in this object (first at line 5, column 7), and only the last would be used. ' +
        "Delete one of the two, or, if one was meant to be another key, correct its name.",
    );
  });

  it("reports a mapping field given twice", async () => {
    const text = `{"mappings": [{"name": "A", "trigger": "type = \\"track\\"", "action": "trackEvent", ${mapping.slice(0, -2)}, "event": { "@literal": "X" } }}]}`;
    const problems = await problemsOf(loadConfig(await writeConfig(text)));

    expect(problems.map((problem) => problem.pointer)).toEqual(["/mappings/0/mapping/event"]);
  });

  it("lists duplicates with other problems", async () => {
    const text = `{"mappings": [{"name": "A", "name": "B", "trigger": "type = \\"track\\"", "action": "track", ${mapping}}]}`;
    const problems = await problemsOf(loadConfig(await writeConfig(text)));

    expect(problems.map((problem) => problem.pointer).sort()).toEqual(["/mappings/0/action", "/mappings/0/name"]);
  });
});

describe("initConfig", () => {
  it("writes the presets with $schema", async () => {
    const file = await initConfig(undefined, directory);
    expect(file).toBe(join(directory, "koala-replay.config.json"));
    const written = JSON.parse(await readFile(file, "utf8")) as { $schema: string; mappings: unknown };
    expect(written.$schema).toContain("koala-replay.config.schema.json");
    expect(written.mappings).toEqual(presetMappings());
    const loaded = await loadConfig(undefined, directory);
    expect(loaded.mappings).toEqual(presetMappings());
  });

  it("keeps an existing file", async () => {
    const file = await writeConfig("keep me");
    await expect(initConfig(file)).rejects.toThrow("already exists");
    expect(await readFile(file, "utf8")).toBe("keep me");
  });
});

describe("validateConfig literals", () => {
  it("rejects a literal Koala would reject", async () => {
    const mapping = trackMapping("Orders");
    Object.assign(mapping.mapping as Record<string, unknown>, { properties: "none", sent_at: "yesterday", event: null, email: 5 });
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));
    expect(problems.map((problem) => problem.pointer)).toEqual([
      "/mappings/0/mapping/event",
      "/mappings/0/mapping/properties",
      "/mappings/0/mapping/sent_at",
    ]);
    expect(problems[1]!.message).toBe('the literal "none" is invalid for every event: properties: must be an object, found string "none"');
  });

  it("rejects a path without @path", async () => {
    const mapping = trackMapping("Orders");
    Object.assign(mapping.mapping as Record<string, unknown>, { email: "$.context.traits.email", device_ip: "$['context'].ip" });
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));

    expect(problems.map((problem) => problem.pointer)).toEqual(["/mappings/0/mapping/email", "/mappings/0/mapping/device_ip"]);
    expect(problems[0]!.message).toContain('the literal "$.context.traits.email" looks like a path');
    expect(problems[0]!.message).toContain('write {"@path": "$.context.traits.email"}');
    expect(problems[0]!.message).toContain('write {"@literal": "$.context.traits.email"}');
  });

  it("rejects a template without @template", async () => {
    const mapping = trackMapping("Orders");
    Object.assign(mapping.mapping as Record<string, unknown>, { event: "Order {{properties.id}}" });
    const problems = await problemsOf(loadConfig(await writeConfig({ mappings: [mapping] })));

    expect(problems.map((problem) => problem.pointer)).toEqual(["/mappings/0/mapping/event"]);
    expect(problems[0]!.message).toContain('write {"@template": "Order {{properties.id}}"}');
  });

  it("accepts such text in @literal and plain text", async () => {
    const mapping = trackMapping("Orders");
    Object.assign(mapping.mapping as Record<string, unknown>, { event: { "@literal": "$.event" }, email: "ops@example.com", device_ip: "10.0.0.1" });
    const loaded = await loadConfig(await writeConfig({ mappings: [mapping] }));

    expect(loaded.mappings[0]!.mapping["event"]).toEqual({ "@literal": "$.event" });
  });
});

describe("validateConfig nesting", () => {
  it("rejects a config nested too deeply", async () => {
    let deep = "1";
    for (let level = 0; level < 100_000; level++) deep = `{"a":${deep}}`;
    const mapping = JSON.stringify(trackMapping("Deep")).replace('"properties":{"@path":"$.properties"}', `"properties":${deep}`);
    expect(mapping.length).toBeGreaterThan(500_000);
    const problems = await problemsOf(loadConfig(await writeConfig(`{"mappings":[${mapping}]}`)));
    expect(problems[0]!.message).toContain("nested too deeply");
  });
});
