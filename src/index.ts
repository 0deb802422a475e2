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
