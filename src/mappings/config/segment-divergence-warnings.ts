import { isPlainObject } from "../value-types.js";
import { forEachFieldMapping, visitDirectives } from "./directive-visitor.js";
import type { ConfigWarning } from "./template-warnings.js";

/**
 * The `$` sequences that String.prototype.replace expands in a replacement string, with what each
 * becomes. Segment's `@replace` passes its replacement to it, and koala-replay inserts it as written.
 */
const replacementPatterns: ReadonlyArray<{ text: string; expansion: string }> = [
  { text: "$$", expansion: 'one "$"' },
  { text: "$&", expansion: "the matched text" },
  { text: "$`", expansion: "the text before the match" },
  { text: "$'", expansion: "the text after the match" },
];

/** A placeholder whose path starts with `$`, such as `{{$.traits.name}}` or `{{ $ }}`. */
const dollarPlaceholder = /\{\{\{?\s*\$/;

/**
 * Finds the directives of the config's mappings that Segment's mapping engine (actions-core 3.170.0)
 * evaluates otherwise than koala-replay, whatever the event, so that a mapping copied from Segment
 * does not send other values without a word:
 * - a `@replace` replacement with `$$`, `$&`, `` $` `` or `$'`, which Segment expands;
 * - `{"@path": "$"}`, the whole event here, which Segment reads as a key named `$` and so as nothing;
 * - a `@template` placeholder whose path starts with `$`, which Segment also reads under a key `$`.
 */
export function findSegmentDivergenceWarnings(config: unknown): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  forEachFieldMapping(config, (mapping, mappingPointer) => {
    visitDirectives(mapping, mappingPointer, (directive, argument, pointer) => {
      const message = describeDivergence(directive, argument);
      if (message !== undefined) warnings.push({ pointer, message });
    });
  });
  return warnings;
}

function describeDivergence(directive: string, argument: unknown): string | undefined {
  switch (directive) {
    case "@replace":
      return isPlainObject(argument) ? describeReplacements(argument) : undefined;
    case "@path":
      if (argument !== "$") return undefined;
      return (
        '{"@path": "$"} reads the whole event here, but Segment reads it as a key named "$" and so maps nothing. ' +
        'Write "$." for the whole event, which both read alike, or remove the field to send nothing, as Segment did'
      );
    case "@template":
      if (typeof argument !== "string" || !dollarPlaceholder.test(argument)) return undefined;
      return (
        `the template ${JSON.stringify(argument)} has a placeholder whose path starts with "$". koala-replay reads it from the event, ` +
        'but Segment reads it under a key named "$" and so inserts nothing. Write the path without "$.", as in {{traits.name}}, which both read alike'
      );
    default:
      return undefined;
  }
}

function describeReplacements(options: Record<string, unknown>): string | undefined {
  for (const key of ["replacement", "replacement2"]) {
    const replacement = options[key];
    if (typeof replacement !== "string") continue;
    const found = replacementPatterns.find((pattern) => replacement.includes(pattern.text));
    if (found === undefined) continue;
    return (
      `the ${key} ${JSON.stringify(replacement)} contains "${found.text}", which Segment's @replace expands into ${found.expansion}. ` +
      "koala-replay inserts the replacement as written, so the two send different text. Write the text to insert as it should be sent"
    );
  }
  return undefined;
}
