export type { SegmentEvent, RecordOrigin, InputRecord, InputProblem, InputItem } from "./inputs/record.js";
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
