import { isPlainObject } from "../value-types.js";
import { childPointer } from "../pointer.js";
import { findStrayOpeningBraces } from "../template-text.js";

/** Something in a valid config that probably does not do what its author meant, with its JSON pointer. */
export interface ConfigWarning {
  pointer: string;
  message: string;
}

/**
 * Finds each `@template` text of the config's mappings with a `{{` that starts no placeholder, such as
 * "Hi {{name" where the `}}` was forgotten. Such a template is valid and renders the braces as text, so
 * it is a warning, not a problem. The contents of `@literal` are data, not templates, so they are skipped.
 */
export function findTemplateWarnings(config: unknown): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (!isPlainObject(config) || !Array.isArray(config["mappings"])) return warnings;
  config["mappings"].forEach((definition: unknown, index) => {
    if (isPlainObject(definition)) {
      visitMappingValue(definition["mapping"], childPointer(childPointer("/mappings", index), "mapping"), warnings);
    }
  });
  return warnings;
}

function visitMappingValue(value: unknown, pointer: string, warnings: ConfigWarning[]): void {
  if (Array.isArray(value)) {
    value.forEach((element: unknown, index) => visitMappingValue(element, childPointer(pointer, index), warnings));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childAt = childPointer(pointer, key);
    if (key === "@literal") continue;
    if (key === "@template" && typeof child === "string") {
      const positions = findStrayOpeningBraces(child);
      if (positions.length > 0) warnings.push({ pointer: childAt, message: describeStrayBraces(child, positions) });
      continue;
    }
    visitMappingValue(child, childAt, warnings);
  }
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
