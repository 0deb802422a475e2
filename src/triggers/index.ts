export { compileTrigger, compileTriggers } from "./compile.js";
export type { CompiledTrigger, TriggerCompilation, TriggerOptions } from "./compile.js";
export type { TriggerDialect } from "./ast.js";
export { TriggerSyntaxError } from "./errors.js";
export type { TriggerPosition, TriggerProblem } from "./errors.js";
export type { NumberAsText } from "./numbers-as-text.js";
export type { TriggerField } from "./walk.js";
export { timeWindowTrigger } from "./time-window.js";
export type { TimeWindow } from "./time-window.js";
