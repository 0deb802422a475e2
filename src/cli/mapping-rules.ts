import type { SegmentEvent } from "../inputs/record.js";
import { presetMappings, type MappingDefinition } from "../koala/presets.js";
import type { BrowserEventsPolicy } from "../pipeline/browser-events.js";
import type { ProcessorRules } from "../pipeline/processor.js";
import { buildProcessorRules } from "../pipeline/processor-config.js";

/**
 * Returns the conditions of a mapping's trigger, in canonical text, that reject an event; an empty
 * list when the trigger matches it.
 */
export type TriggerExplainer = (mappingName: string, event: SegmentEvent) => readonly string[];

/** The mappings a command applies, compiled once before the first event is read. */
export interface MappingRules {
  /** The enabled mappings, in config order. */
  mappings: readonly MappingDefinition[];
  processor: ProcessorRules;
  explain: TriggerExplainer;
}

/**
 * Compiles the mappings that `preview` and `inspect` apply. Throws when a trigger or a mapping is
 * invalid, before any input is read.
 */
export function loadMappingRules(browserEvents: BrowserEventsPolicy, definitions: readonly MappingDefinition[] = presetMappings()): MappingRules {
  const mappings = definitions.filter((definition) => definition.enabled);
  const processor = buildProcessorRules({ mappings, browserEvents });
  return { mappings, processor, explain: explainByWholeTrigger(processor, mappings) };
}

// TODO: the interim rules cannot split a trigger into conditions, so a rejecting trigger is named
// whole. When the trigger engine lands, explain with `compileTrigger(definition.trigger).explain(event)`.
function explainByWholeTrigger(processor: ProcessorRules, mappings: readonly MappingDefinition[]): TriggerExplainer {
  const triggerText = new Map(mappings.map((mapping) => [mapping.name, mapping.trigger]));
  const rules = new Map(processor.rules.map((rule) => [rule.name, rule]));
  return (mappingName, event) => {
    const rule = rules.get(mappingName);
    if (rule === undefined || rule.matches(event)) {
      return [];
    }
    return [triggerText.get(mappingName) ?? mappingName];
  };
}
