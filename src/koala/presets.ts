import { type ActionId, defaultMapping } from "./fields.js";

/** One mapping of a config: which events (trigger), which Koala action, and how fields are filled. */
export interface MappingDefinition {
  name: string;
  enabled: boolean;
  trigger: string;
  action: ActionId;
  mapping: Record<string, unknown>;
}

/**
 * Builds Segment's two presets for the Koala (Cloud) destination, which apply when no config file
 * is given: Track Event for track calls, Identify Visitor for identify calls.
 */
export function presetMappings(): MappingDefinition[] {
  return [
    {
      name: "Track Event",
      enabled: true,
      trigger: 'type = "track"',
      action: "trackEvent",
      mapping: defaultMapping("trackEvent"),
    },
    {
      name: "Identify Visitor",
      enabled: true,
      trigger: 'type = "identify"',
      action: "identifyVisitor",
      mapping: defaultMapping("identifyVisitor"),
    },
  ];
}
