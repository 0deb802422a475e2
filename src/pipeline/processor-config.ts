import type { MappingDefinition } from "../koala/presets.js";
import type { BrowserEventsPolicy } from "./browser-events.js";
import { compilePathReader } from "../triggers/values.js";
import { compileFilters, compileRules, listFilterFields, RuleCompilationError } from "./compile-rules.js";
import type { ProcessorRules } from "./processor.js";

/** Everything that decides what an event becomes, in a form that can be posted to a worker thread. */
export interface ProcessorConfig {
  mappings: readonly MappingDefinition[];
  browserEvents: BrowserEventsPolicy;
  /** Triggers in the full FQL language that every event must match: `--filter`, `--since`, `--until`. */
  filters: readonly { label: string; text: string }[];
  /**
   * Whether identity stitching runs, and so may give an email to entries that have neither email nor
   * profile_id. Off, such entries are only counted. On unless set to false.
   */
  stitching?: boolean;
  /**
   * Whether the userId and anonymousId of every event with entries reach the main thread, for the
   * email exclusion to check the email that identity stitching links them to. Off, the ids come only
   * with entries that stitching needs them for.
   */
  keepsIdentity?: boolean;
}

/** Compiles the config into the rules that `processEvent` applies; throws on an invalid trigger or mapping. */
export function buildProcessorRules(config: ProcessorConfig): ProcessorRules {
  const problems: string[] = [];
  const compiled = collectProblems(() => compileRules(config.mappings), problems);
  const filter = collectProblems(() => compileFilters(config.filters), problems);
  if (problems.length > 0 || compiled === undefined) {
    throw new RuleCompilationError(problems);
  }
  const rules: ProcessorRules = { rules: compiled, browserEvents: config.browserEvents, buildsUnidentified: config.stitching !== false, keepsIdentity: config.keepsIdentity === true };
  if (filter !== undefined) {
    rules.filter = filter;
    rules.filterFieldReaders = listFilterFields(config.filters).map((field) => compilePathReader(field.segments));
  }
  return rules;
}

function collectProblems<T>(compile: () => T, problems: string[]): T | undefined {
  try {
    return compile();
  } catch (error) {
    if (error instanceof RuleCompilationError) {
      problems.push(...error.problems);
      return undefined;
    }
    throw error;
  }
}

/** Names of the enabled mappings in the order the rules use, shared by both ends of the worker codec. */
export function mappingNames(config: ProcessorConfig): string[] {
  return config.mappings.filter((mapping) => mapping.enabled).map((mapping) => mapping.name);
}
