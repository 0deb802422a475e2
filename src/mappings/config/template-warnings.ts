import { isPlainObject } from "../value-types.js";
import { childPointer } from "../pointer.js";
import { findStrayClosingBraces, findStrayOpeningBraces, hasPlaceholder } from "../template-text.js";
import type { ConfigProblem } from "./config-error.js";
import { forEachFieldMapping, visitDirectives } from "./directive-visitor.js";

/** Something in a valid config that probably does not do what its author meant, with its JSON pointer. */
export interface ConfigWarning {
  pointer: string;
  message: string;
}

/**
 * Finds each `@template` text of the config's mappings with a `{{` that starts no placeholder, such as
 * "Hi {{name" where the `}}` was forgotten. Such a template is valid and renders the braces as text, as
 * Segment's (actions-core 3.170.0) does, so it is a warning, not a problem. The templates of `message_id` are left to
 * `findMessageIdTemplateProblems`, which rejects them.
 */
export function findTemplateWarnings(config: unknown): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  forEachFieldMapping(config, (mapping, mappingPointer) => {
    for (const [field, value] of Object.entries(mapping)) {
      if (field === MESSAGE_ID_FIELD) continue;
      visitTemplates(value, childPointer(mappingPointer, field), (template, pointer) => {
        const positions = findStrayOpeningBraces(template);
        if (positions.length > 0) warnings.push({ pointer, message: describeStrayBraces(template, positions) });
      });
    }
  });
  return warnings;
}

const MESSAGE_ID_FIELD = "message_id";

/**
 * Returns a problem for each `@template` text of a mapping's `message_id` with a stray `{{` or `}}`,
 * or with no placeholder at all. Such braces end up in the id as text, as in "{{messageId}-x", and a
 * template without a placeholder gives every entry the same id. koala-replay then skips every entry
 * after the first as a duplicate, and Koala would keep only one of them.
 */
export function findMessageIdTemplateProblems(mapping: Record<string, unknown>, mappingPointer: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const constant = findConstantMessageId(mapping[MESSAGE_ID_FIELD], childPointer(mappingPointer, MESSAGE_ID_FIELD));
  if (constant !== undefined) problems.push(constant);
  visitTemplates(mapping[MESSAGE_ID_FIELD], childPointer(mappingPointer, MESSAGE_ID_FIELD), (template, pointer) => {
    const problem = describeMessageIdTemplateProblem(template);
    if (problem !== undefined) {
      problems.push({ pointer, message: problem, expected: 'a template with a placeholder, such as "{{messageId}}-web"', found: JSON.stringify(template) });
    }
  });
  return problems;
}

/**
 * Returns a problem for a `message_id` mapped to a constant: a string, number or boolean, alone or as
 * the data of `@literal`. Every entry would get the same id, as with a template without placeholder.
 * A string that looks like a path or a template is most likely a missing `@path` or `@template`.
 */
function findConstantMessageId(value: unknown, pointer: string): ConfigProblem | undefined {
  let constant = value;
  let constantPointer = pointer;
  if (isPlainObject(value) && Object.keys(value).length === 1 && Object.hasOwn(value, "@literal")) {
    constant = value["@literal"];
    constantPointer = childPointer(pointer, "@literal");
  }
  if (typeof constant !== "string" && typeof constant !== "number" && typeof constant !== "boolean") return undefined;
  // An empty string is no id at all, which the check of required fields reports.
  if (constant === "") return undefined;

  const quoted = JSON.stringify(constant);
  let fix = 'Map it from the event, as in {"@path": "$.messageId"}';
  if (typeof constant === "string" && /^\$(?:$|[.[])/.test(constant)) fix = `To read that field of the event, write {"@path": ${quoted}}`;
  else if (typeof constant === "string" && hasPlaceholder(constant)) fix = `To insert values from the event, write {"@template": ${quoted}}`;
  return {
    pointer: constantPointer,
    message: `the message_id is the constant ${quoted}, so every entry would get the same message_id and all entries but the first would be skipped as duplicates. ${fix}`,
    expected: 'a value read from the event, such as {"@path": "$.messageId"}',
    found: quoted,
  };
}

function describeMessageIdTemplateProblem(template: string): string | undefined {
  const quoted = JSON.stringify(template);
  const opening = findStrayOpeningBraces(template);
  const closing = findStrayClosingBraces(template);
  const fix = 'Write each path between "{{" and "}}", as in "{{messageId}}-web"';
  if (opening.length > 0 || closing.length > 0) {
    const first = opening.length > 0 ? `a "{{" at position ${opening[0]} that starts no placeholder` : `a "}}" at position ${closing[0]} that ends no placeholder`;
    const count = opening.length + closing.length;
    const others = count === 1 ? "" : ` (and ${count - 1} more stray ${count === 2 ? "pair" : "pairs"} of braces)`;
    const consequence = hasPlaceholder(template)
      ? "The braces would be sent as text in every message_id"
      : "Every entry would get this text as its message_id, so all entries but the first would be skipped as duplicates";
    return `the message_id template ${quoted} has ${first}${others}. ${consequence}. ${fix}`;
  }
  if (!hasPlaceholder(template)) {
    return `the message_id template ${quoted} has no placeholder, so every entry would get the same message_id and all entries but the first would be skipped as duplicates. ${fix}`;
  }
  return undefined;
}

/** Calls `visit` with each `@template` text in a mapping value and its pointer, also inside `@literal`, which evaluates them. */
function visitTemplates(value: unknown, pointer: string, visit: (template: string, pointer: string) => void): void {
  visitDirectives(value, pointer, (directive, argument, argumentPointer) => {
    if (directive === "@template" && typeof argument === "string") visit(argument, argumentPointer);
  });
}

/** Describes the first stray `{{` of a template, and how many others it has. */
function describeStrayBraces(template: string, positions: readonly number[]): string {
  const first = positions[0] ?? 0;
  const others = positions.length === 1 ? "" : ` (and ${positions.length - 1} more)`;
  const quoted = JSON.stringify(template);
  const problem =
    template.indexOf("}}", first + 2) === -1
      ? `the template ${quoted} has a "{{" at position ${first}${others} that no "}}" closes`
      : `the template ${quoted} has a "{{" at position ${first}${others} that starts no placeholder, because the text up to the next "}}" is empty or contains "}"`;
  return (
    `${problem}, so the braces are sent as text. To insert a value, write its path between "{{" and "}}", as in {{traits.name}}. ` +
    'For text that contains "{{" and no placeholder, use {"@literal": …} instead'
  );
}
