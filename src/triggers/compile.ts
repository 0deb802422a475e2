import type { SegmentEvent } from "../inputs/record.js";
import type { TriggerDialect, TriggerNode } from "./ast.js";
import { checkTrigger } from "./check.js";
import { compileCondition, type EventPredicate } from "./compiler.js";
import { TriggerSyntaxError, type TriggerProblem } from "./errors.js";
import { formatTrigger } from "./format.js";
import { parseTrigger } from "./parser.js";
import { findNegatedTestsWithoutText, listNegatedTextTests, type NegatedTestWithoutText } from "./negated-tests.js";
import { findNumbersAsText, listNumberComparisons, type NumberAsText } from "./numbers-as-text.js";
import { listFields, type TriggerField } from "./walk.js";

export interface TriggerOptions {
  /**
   * `subscription` (the default) is Segment's destination-trigger subset. It rejects the constructs
   * that Segment's trigger parser (@segment/destination-subscriptions 3.37.0) ignores or misreads,
   * such as `!` before a comparison, other fields, `and` mixed with `or` and unquoted words, so a
   * pasted trigger either selects the events its text describes or fails to compile. `fql` is the
   * full language: any field, `in`, `!` before any condition, all functions, and `and`/`or` mixed
   * without parentheses (with a warning).
   */
  dialect?: TriggerDialect;
}

/** A condition that rejects an event, in canonical text, and the fields it reads in trigger order. */
export interface FailingCondition {
  text: string;
  fields: readonly TriggerField[];
}

export interface CompiledTrigger {
  /** The trigger text as written. */
  readonly source: string;
  /** Canonical text of the trigger, with parentheses wherever `and` and `or` nest. */
  readonly normalized: string;
  readonly dialect: TriggerDialect;
  /** Constructs that compile but may not mean what the author intended. */
  readonly warnings: readonly string[];
  matches(event: SegmentEvent): boolean;
  /**
   * Lists the top-level conditions, in canonical text, that make the trigger reject this event:
   * the failing operands of a top-level `and`, every operand of a failing top-level `or`, or the
   * whole trigger. Returns an empty list when the trigger matches.
   */
  explain(event: SegmentEvent): string[];
  /** Lists the conditions of `explain`, each with the fields that it reads, so that their values in the event can be shown. */
  explainWithFields(event: SegmentEvent): FailingCondition[];
  /** Fields that the trigger reads, each once, in trigger order. */
  readonly fields: readonly TriggerField[];
  /** Fields that the trigger compares with a number, each once, in trigger order. Text there never matches. */
  readonly numberFields: readonly string[];
  /** Lists the fields that the trigger compares with a number but that hold number-like text in this event. */
  findNumbersAsText(event: SegmentEvent): NumberAsText[];
  /** Lists the `!contains(…)` and `!match(…)` conditions that reject this event because their field is not text. */
  findNegatedTestsWithoutText(event: SegmentEvent): NegatedTestWithoutText[];
}

/** Compiles one trigger, or throws a TriggerSyntaxError that points at the problem. */
export function compileTrigger(text: string, options: TriggerOptions = {}): CompiledTrigger {
  const dialect = options.dialect ?? "subscription";
  if (dialect !== "subscription" && dialect !== "fql") {
    throw new TypeError(`Invalid trigger dialect ${JSON.stringify(dialect)}: expected "subscription" or "fql".`);
  }
  if (typeof text !== "string") {
    throw new TypeError(`A trigger must be a string, got ${text === null ? "null" : typeof text}.`);
  }
  if (dialect === "fql" && text.trim() === "all") return matchEverything(text);

  const root = parseTrigger(text);
  const warnings = checkTrigger(root, text, dialect);
  const matches = compileCondition(root);
  const parts = topLevelParts(root).map((part) => ({ text: formatTrigger(part), matches: compileCondition(part), fields: listFields(part, formatTrigger) }));
  const numberComparisons = listNumberComparisons(root);
  const negatedTests = listNegatedTextTests(root);
  return {
    source: text,
    normalized: formatTrigger(root),
    dialect,
    warnings,
    matches,
    explain: (event) => explainFailure(matches, parts, event).map((part) => part.text),
    explainWithFields: (event) => explainFailure(matches, parts, event).map(({ text, fields }) => ({ text, fields })),
    numberFields: numberComparisons.map((comparison) => comparison.field),
    findNumbersAsText: (event) => findNumbersAsText(numberComparisons, event),
    findNegatedTestsWithoutText: (event) => findNegatedTestsWithoutText(negatedTests, root, event),
    fields: listFields(root, formatTrigger),
  };
}

export type TriggerCompilation =
  | { ok: true; triggers: CompiledTrigger[] }
  | { ok: false; problems: TriggerProblem[] };

/**
 * Compiles every trigger and collects all syntax errors instead of stopping at the first, so a
 * caller can report every bad trigger before reading any event.
 */
export function compileTriggers(texts: readonly string[], options: TriggerOptions = {}): TriggerCompilation {
  const triggers: CompiledTrigger[] = [];
  const problems: TriggerProblem[] = [];
  texts.forEach((text, index) => {
    try {
      triggers.push(compileTrigger(text, options));
    } catch (error) {
      if (!(error instanceof TriggerSyntaxError)) throw error;
      problems.push({ index, source: text, error });
    }
  });
  return problems.length === 0 ? { ok: true, triggers } : { ok: false, problems };
}

function topLevelParts(root: TriggerNode): TriggerNode[] {
  return root.kind === "and" || root.kind === "or" ? root.operands : [root];
}

interface TriggerPart extends FailingCondition {
  matches: EventPredicate;
}

function explainFailure(matches: EventPredicate, parts: readonly TriggerPart[], event: SegmentEvent): readonly TriggerPart[] {
  if (matches(event)) return [];
  const failing = parts.filter((part) => !part.matches(event));
  return failing.length > 0 ? failing : parts;
}

/** Segment's destination filters treat the FQL text `all` as "every event". */
function matchEverything(text: string): CompiledTrigger {
  return {
    source: text,
    normalized: "all",
    dialect: "fql",
    warnings: [],
    matches: () => true,
    explain: () => [],
    explainWithFields: () => [],
    numberFields: [],
    findNumbersAsText: () => [],
    findNegatedTestsWithoutText: () => [],
    fields: [],
  };
}
