import { parseDecimal } from "../inputs/csv/cell.js";
import type { InputBatch, InputFormat } from "../inputs/read-input.js";
import type { InputItem, RecordOrigin, SegmentEvent } from "../inputs/record.js";
import type { MappingDefinition } from "../koala/presets.js";
import { compileTrigger, type CompiledTrigger } from "../triggers/index.js";

/** A CSV cell kept as text that --csv-numbers would have made a number, in a field that a trigger compares with a number. */
export interface NumberKeptAsText {
  field: string;
  value: string;
  /** The comparing trigger's label: `mapping "<name>"`, `--filter` or `--since/--until`. */
  comparedBy: string;
  origin: RecordOrigin;
}

/**
 * Looks, in the events of CSV inputs read without --csv-numbers, for the first cell that proves the
 * option matters: number-like text in a field that a mapping trigger or a filter compares with a
 * number. Such a comparison never matches text. The check stops at the first cell found, and runs
 * only when some trigger compares a field with a number.
 */
export class CsvNumbersCheck {
  private readonly triggers: ReadonlyArray<{ comparedBy: string; trigger: CompiledTrigger }>;
  private readingCsv = false;
  /** The first such cell, or undefined when none was found. */
  found: NumberKeptAsText | undefined;

  constructor(mappings: readonly MappingDefinition[], filters: readonly { label: string; text: string }[]) {
    const triggers = [
      ...mappings.filter((mapping) => mapping.enabled).map((mapping) => ({ comparedBy: `mapping "${mapping.name}"`, trigger: compileTrigger(mapping.trigger) })),
      ...filters.map((filter) => ({ comparedBy: filter.label, trigger: compileTrigger(filter.text, { dialect: "fql" }) })),
    ];
    this.triggers = triggers.filter(({ trigger }) => trigger.numberFields.length > 0);
  }

  /** Whether a trigger compares a field with a number; without one, --csv-numbers changes no match. */
  get comparesNumbers(): boolean {
    return this.triggers.length > 0;
  }

  /** Records the format of the input about to be read, because only the events of CSV inputs are checked. */
  startInput(format: InputFormat): void {
    this.readingCsv = format === "csv";
  }

  /** Passes `batches` through, checking the events of CSV inputs until the first such cell is found. */
  async *watch(batches: AsyncIterable<InputBatch>): AsyncGenerator<InputBatch> {
    for await (const batch of batches) {
      if (this.readingCsv && this.found === undefined && batch.kind === "items") {
        this.checkItems(batch.items);
      }
      yield batch;
    }
  }

  private checkItems(items: readonly InputItem[]): void {
    for (const item of items) {
      if (item.kind === "record") {
        this.found = this.findInEvent(item.event, item.origin);
        if (this.found !== undefined) {
          return;
        }
      }
    }
  }

  private findInEvent(event: SegmentEvent, origin: RecordOrigin): NumberKeptAsText | undefined {
    for (const { comparedBy, trigger } of this.triggers) {
      // --csv-numbers converts plain decimals only, so `1,200` stays text with it too.
      const cell = trigger.findNumbersAsText(event).find(({ value }) => parseDecimal(value) !== undefined);
      if (cell !== undefined) {
        return { ...cell, comparedBy, origin };
      }
    }
    return undefined;
  }
}
