import type { SegmentEvent } from "../record.js";

/** Reason a well-formed CSV row still cannot become an event. The reader adds the input and line. */
export class InvalidRow {
  constructor(readonly message: string) {}
}

/** Turns the cells of one data row into an event. Built once per file from its header. */
export interface RowConverter {
  convertRow(cells: readonly string[]): SegmentEvent | InvalidRow;
}
