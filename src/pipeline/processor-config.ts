import type { MappingDefinition } from "../koala/presets.js";
import type { BrowserEventsPolicy } from "./browser-events.js";
import { compileRules } from "./compile-rules.js";
import type { ProcessorRules } from "./processor.js";

/** Everything that decides what an event becomes, in a form that can be posted to a worker thread. */
export interface ProcessorConfig {
  mappings: readonly MappingDefinition[];
  browserEvents: BrowserEventsPolicy;
}

/** Compiles the config into the rules that `processEvent` applies; throws on an invalid trigger or mapping. */
export function buildProcessorRules(config: ProcessorConfig): ProcessorRules {
  return { rules: compileRules(config.mappings), browserEvents: config.browserEvents };
}

/** Names of the enabled mappings in the order the rules use, shared by both ends of the worker codec. */
export function mappingNames(config: ProcessorConfig): string[] {
  return config.mappings.filter((mapping) => mapping.enabled).map((mapping) => mapping.name);
}
