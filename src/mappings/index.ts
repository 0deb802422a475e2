export { compileMapping, rootDirectiveKey, type CompiledMapping } from "./compile.js";
export { MappingRuntimeError, MappingValidationError, type MappingProblem } from "./errors.js";
export { directiveNames } from "./registry.js";
