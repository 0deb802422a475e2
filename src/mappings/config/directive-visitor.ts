import { childPointer } from "../pointer.js";
import { isPlainObject } from "../value-types.js";

/**
 * Calls `visit` with each directive in a mapping value (its key such as "@template", its argument and
 * the argument's JSON pointer), depth first. Directives in the data of `@literal` are visited too,
 * because they are evaluated, as in Segment.
 */
export function visitDirectives(value: unknown, pointer: string, visit: (directive: string, argument: unknown, pointer: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((element: unknown, index) => visitDirectives(element, childPointer(pointer, index), visit));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childAt = childPointer(pointer, key);
    if (key.startsWith("@")) visit(key, child, childAt);
    visitDirectives(child, childAt, visit);
  }
}

/** Calls `visit` with the field mappings of each mapping of a parsed config and their JSON pointer, skipping malformed entries. */
export function forEachFieldMapping(config: unknown, visit: (mapping: Record<string, unknown>, pointer: string) => void): void {
  if (!isPlainObject(config) || !Array.isArray(config["mappings"])) return;
  config["mappings"].forEach((definition: unknown, index) => {
    if (!isPlainObject(definition) || !isPlainObject(definition["mapping"])) return;
    visit(definition["mapping"], childPointer(childPointer("/mappings", index), "mapping"));
  });
}
