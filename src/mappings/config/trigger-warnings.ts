import { compileTrigger } from "../../triggers/index.js";
import { childPointer } from "../pointer.js";
import { isPlainObject } from "../value-types.js";
import type { ConfigWarning } from "./template-warnings.js";

/**
 * Lists the warnings of each mapping's trigger, such as an ordering with text that is not a number
 * or a match() pattern that Segment reads differently, at the trigger's JSON pointer. Call it on a
 * config without problems, whose triggers all compile.
 */
export function findTriggerWarnings(config: unknown): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (!isPlainObject(config) || !Array.isArray(config["mappings"])) return warnings;
  config["mappings"].forEach((definition: unknown, index) => {
    if (!isPlainObject(definition) || typeof definition["trigger"] !== "string") return;
    const pointer = childPointer(childPointer("/mappings", index), "trigger");
    for (const message of compileTrigger(definition["trigger"]).warnings) warnings.push({ pointer, message });
  });
  return warnings;
}
