/** Helpers that build nested event objects from column paths without touching `Object.prototype`. */

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets an own property, even for the key `__proto__`, which plain assignment would turn into a prototype change. */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function getOwn(target: JsonObject, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

/**
 * Sets `value` at `path` below `root`, creating objects on the way. Two columns can collide, when a
 * step of the path already contains a non-object (a `properties.plan` cell, then
 * `properties.plan.name`). The value is then stored under the rest of the path joined by
 * `separator`, so neither cell is lost.
 * When both the existing and the new value are objects, their keys are merged and the existing keys win.
 */
export function setPath(root: JsonObject, path: readonly string[], value: unknown, separator: string): void {
  let node = root;
  const lastIndex = path.length - 1;
  for (let index = 0; index < lastIndex; index += 1) {
    const key = path[index]!;
    const child = getOwn(node, key);
    if (child === undefined) {
      const created: JsonObject = {};
      setOwn(node, key, created);
      node = created;
    } else if (isPlainObject(child)) {
      node = child;
    } else {
      setOwn(node, path.slice(index).join(separator), value);
      return;
    }
  }

  const leaf = path[lastIndex]!;
  const existing = getOwn(node, leaf);
  if (isPlainObject(existing) && isPlainObject(value)) {
    setOwn(node, leaf, { ...value, ...existing });
  } else {
    setOwn(node, leaf, value);
  }
}
