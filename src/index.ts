export type { SegmentEvent, RecordOrigin, InputRecord, InputProblem, InputItem } from "./inputs/record.js";
