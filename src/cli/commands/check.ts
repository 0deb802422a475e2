import { existsSync, readFileSync } from "node:fs";
import { compileTrigger, TriggerSyntaxError, type TriggerDialect } from "../../triggers/index.js";
import { ExitCode, UsageError } from "../errors.js";

export interface RawCheckOptions {
  trigger?: string;
  event?: string;
  dialect?: string;
}

/**
 * Runs `koala-replay check --trigger`: compiles the trigger, prints its error or its normalised form,
 * and evaluates it on an event when one is given. Returns 0 when it compiles (and matches the event),
 * 1 when it does not match the event, 2 when it is invalid.
 */
export function checkTriggerCommand(options: RawCheckOptions): number {
  if (options.trigger === undefined) {
    throw new UsageError("nothing to check", "give a trigger with --trigger '<trigger>', for example: koala-replay check --trigger 'type = \"track\"'");
  }
  const dialect = parseDialect(options.dialect);
  let trigger;
  try {
    trigger = compileTrigger(options.trigger, { dialect });
  } catch (error) {
    if (error instanceof TriggerSyntaxError) {
      process.stderr.write(`${error.message}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
  process.stdout.write(`valid ${dialect === "fql" ? "FQL" : "trigger"}: ${trigger.normalized}\n`);
  for (const warning of trigger.warnings) {
    process.stderr.write(`warning: ${warning}\n`);
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
  for (const condition of trigger.explain(event)) {
    process.stdout.write(`  ${condition}\n`);
  }
  return ExitCode.incomplete;
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
  const text = value.trimStart().startsWith("{") || !existsSync(value) ? value : readFileSync(value, "utf8");
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`invalid --event: ${(error as Error).message}`, "give one JSON object inline ('{\"type\":\"track\"}') or the path of a file that holds one");
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new UsageError("invalid --event: expected a JSON object");
  }
  return event as Record<string, unknown>;
}
