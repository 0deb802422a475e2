import type { SegmentEvent } from "../record.js";

/** Reason a well-formed CSV row still cannot become an event. The reader adds the input and line. */
export class InvalidRow {
  constructor(readonly message: string) {}
}

/** Turns the cells of one data row into an event. Built once per file from its header. */
export interface RowConverter {
  convertRow(cells: readonly string[]): SegmentEvent | InvalidRow;
  /**
   * The place in the event that each column's value goes to, such as `userId` or
   * `properties.plan`, or undefined for a column whose value is dropped. Columns that fill the same
   * place have the same string, so the reader can report a row that gives them different values.
   */
  readonly columnTargets: readonly (string | undefined)[];
}
