export type { SegmentEvent, RecordOrigin, InputRecord, InputProblem, InputItem } from "./inputs/record.js";
export {
  compileTrigger,
  compileTriggers,
  TriggerSyntaxError,
  timeWindowTrigger,
} from "./triggers/index.js";
export type {
  CompiledTrigger,
  TriggerCompilation,
  TriggerOptions,
  TriggerDialect,
  TriggerPosition,
  TriggerProblem,
  TimeWindow,
} from "./triggers/index.js";
export {
  compileMapping,
  MappingRuntimeError,
  MappingValidationError,
  validatePayload,
  renderActionFields,
  ConfigError,
  loadConfig,
  findDefaultConfig,
  initConfig,
  buildConfigSchema,
  defaultConfigFileName,
  maxMappings,
} from "./mappings/index.js";
export type {
  CompiledMapping,
  MappingProblem,
  PayloadProblem,
  PayloadProblemReason,
  HelpFormat,
  ConfigProblem,
  LoadedConfig,
} from "./mappings/index.js";
export type { MappingDefinition } from "./koala/presets.js";
export type { ActionId, ActionField } from "./koala/fields.js";
export {
  IdentityGraph,
  loadIdentities,
  IdentityCoverage,
  formatCoverage,
  checkStitchingInputs,
} from "./identity/index.js";
export type {
  IdentityGraphOptions,
  IdentityGraphStats,
  LoadIdentitiesOptions,
  LoadIdentitiesResult,
  IdentitiesFileProblem,
  CoverageCounts,
} from "./identity/index.js";
