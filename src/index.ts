export type { SegmentEvent, RecordOrigin, InputRecord, InputProblem, InputItem } from "./inputs/record.js";
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
