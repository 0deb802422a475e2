import type { SegmentEvent } from "../inputs/record.js";
import type { MappingDefinition } from "../koala/presets.js";
import type { BrowserEventsPolicy } from "../pipeline/browser-events.js";
import type { ProcessorRules } from "../pipeline/processor.js";
import { buildProcessorRules } from "../pipeline/processor-config.js";
import { compileTrigger, type CompiledTrigger } from "../triggers/index.js";
import { describeConfigWarnings, loadConfigOption } from "./config-file.js";
import { describeFilterWarnings } from "./send-options.js";

/**
 * Returns the conditions of a mapping's trigger, in canonical text, that reject an event; an empty
 * list when the trigger matches it.
 */
export type TriggerExplainer = (mappingName: string, event: SegmentEvent) => readonly string[];

/** The mappings a command applies, compiled once before the first event is read. */
export interface MappingRules {
  /** The enabled mappings, in config order. */
  mappings: readonly MappingDefinition[];
  /** Origin of the mappings: "presets" or the config file's absolute path. */
  source: string;
  processor: ProcessorRules;
  explain: TriggerExplainer;
  /** Warnings about the config file and the `--filter` trigger, formatted for `writeWarning`. */
  configWarnings: readonly string[];
  /** Email patterns of the config's `excludeEmails`. */
  excludeEmails: readonly string[];
}

/**
 * Loads the config (`--config`, else koala-replay.config.json in the working directory, else the
 * presets) and compiles it for `preview` and `inspect`. Throws ConfigError or RuleCompilationError
 * listing every invalid trigger or mapping, before any input is read.
 */
export async function loadMappingRules(
  configPath: string | undefined,
  browserEvents: BrowserEventsPolicy,
  filters: readonly { label: string; text: string }[],
): Promise<MappingRules> {
  const config = await loadConfigOption(configPath);
  const mappings = config.mappings.filter((definition) => definition.enabled);
  const processor = buildProcessorRules({ mappings, browserEvents, filters });
  const configWarnings = [...describeConfigWarnings(config), ...describeFilterWarnings(filters)];
  return { mappings, source: config.source, processor, explain: explainTriggers(mappings), configWarnings, excludeEmails: config.excludeEmails };
}

/** Compiles each trigger a second time for its `explain`, which the rules do not keep; only preview samples call it. */
function explainTriggers(mappings: readonly MappingDefinition[]): TriggerExplainer {
  const triggers = new Map<string, CompiledTrigger>(mappings.map((mapping) => [mapping.name, compileTrigger(mapping.trigger)]));
  return (mappingName, event) => triggers.get(mappingName)?.explain(event) ?? [];
}
