import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { RowSink } from "./identities-file.js";
import { chooseFields, normalizeFieldName, readIdentityRow, type RowOutcome } from "./identity-row.js";

/**
 * Reads one JSON object a line: `{"userId": "u1", "anonymousId": "a1", "email": "…", "timestamp": "…"}`,
 * with the same key spellings as CSV headers (`user_id`, `anonymous_id`, …). `traits.email` is read
 * too, so a file of identify calls works. Blank lines are skipped. Reading stops at the first line
 * read after `signal` is aborted.
 */
export async function readJsonlIdentities(stream: Readable, sink: RowSink, signal?: AbortSignal): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;

  for await (const rawLine of lines) {
    if (signal?.aborted === true) {
      lines.close();
      return;
    }
    lineNumber++;
    const line = lineNumber === 1 ? rawLine.replace(/^\uFEFF/, "") : rawLine;
    if (line.trim() === "") continue;

    sink(readJsonLine(line), lineNumber);
  }
}

function readJsonLine(line: string): RowOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { kind: "problem", message: `is not valid JSON (${(error as Error).message})` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { kind: "problem", message: "is not a JSON object" };
  }

  const values = normalizedValues(parsed as Record<string, unknown>);
  const fields = chooseFields(new Set(values.keys()));
  return readIdentityRow(fields, (field) => values.get(field));
}

function normalizedValues(object: Record<string, unknown>): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(object)) {
    values.set(normalizeFieldName(key), value);
  }

  const traits = object["traits"];
  if (!values.has("email") && typeof traits === "object" && traits !== null) {
    values.set("email", (traits as Record<string, unknown>)["email"]);
  }
  return values;
}
