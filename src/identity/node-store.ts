import type { IdKey } from "./hash-id.js";

/** Node number meaning "no node": the parent of a root, the link of an id never seen beside another. */
export const NO_NODE = -1;

/**
 * Storage of the identity graph's nodes, one per id, addressed by a dense node number. Every node
 * has a parent (alias sets, union-find) and an email with the time it was observed. It also has a
 * link to the id it was last seen beside on one event, with that event's time. Emails and links are
 * kept on the root of each alias set.
 */
export interface NodeStore {
  /** Returns the node of `key`, or {@link NO_NODE}. */
  find(key: IdKey): number;
  /** Adds a node for `key`, which must not be present yet. */
  add(key: IdKey): number;
  /** Writes the key of `node` into `key`. */
  keyOf(node: number, key: IdKey): void;

  parentOf(node: number): number;
  setParent(node: number, parent: number): void;

  emailOf(node: number): string | undefined;
  emailTimeOf(node: number): number;
  setEmail(node: number, email: string, time: number): void;
  /** Moves the time of the node's email forward without rewriting the email. */
  setEmailTime(node: number, time: number): void;

  linkOf(node: number): number;
  linkTimeOf(node: number): number;
  setLink(node: number, linked: number, time: number): void;

  readonly size: number;
  close(): void;
}
