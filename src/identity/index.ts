export {
  IdentityGraph,
  DEFAULT_MAX_MEMORY_ENTRIES,
  NO_RESOLVED_IDS,
  type ResolvedIds,
  type IdentityGraphOptions,
  type IdentityGraphStats,
} from "./identity-graph.js";
export {
  loadIdentities,
  type IdentitiesFormat,
  type IdentitiesFileProblem,
  type LoadIdentitiesOptions,
  type LoadIdentitiesResult,
} from "./identities-file.js";
export { IdentitiesFileError } from "./identities-file-error.js";
export { IdentityGraphWriteError } from "./disk-nodes.js";
export { IdentityCoverage, formatCoverage, type CoverageCounts } from "./coverage.js";
export { checkStitchingInputs, type StitchingInputs } from "./stitching-usage.js";
export { normalizeEmail, normalizeId, readEventEmail, readEventTime, parseTime } from "./event-identity.js";
