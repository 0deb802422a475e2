import type { IdKey } from "./hash-id.js";
import { DiskNodes } from "./disk-nodes.js";
import { MemoryNodes } from "./memory-nodes.js";
import { NO_NODE, type NodeStore } from "./node-store.js";

/**
 * Nodes in memory up to `maxMemoryEntries`, then in a temporary directory: nodes numbered below
 * the limit live in memory, the rest on disk. Ids stored in memory stay there, so the ids seen
 * first (usually the busiest) stay fast.
 */
export class TieredNodes implements NodeStore {
  private readonly memory: MemoryNodes;
  private disk: DiskNodes | undefined;
  private readonly spillDirectory: string;

  constructor(maxMemoryEntries: number, spillDirectory: string) {
    this.memory = new MemoryNodes(maxMemoryEntries);
    this.spillDirectory = spillDirectory;
  }

  get size(): number {
    return this.memory.size + (this.disk?.size ?? 0);
  }

  get memorySize(): number {
    return this.memory.size;
  }

  get diskSize(): number {
    return this.disk?.size ?? 0;
  }

  /** Temporary directory of the spilled nodes, while there is one. */
  get diskDirectory(): string | undefined {
    return this.disk?.directory;
  }

  find(key: IdKey): number {
    const node = this.memory.find(key);
    if (node !== NO_NODE || this.disk === undefined) return node;
    return this.disk.find(key);
  }

  add(key: IdKey): number {
    if (this.memory.size < this.memory.maxSize) return this.memory.add(key);

    this.disk ??= new DiskNodes(this.spillDirectory, this.memory.maxSize);
    return this.disk.add(key);
  }

  keyOf(node: number, key: IdKey): void {
    this.tierOf(node).keyOf(node, key);
  }

  parentOf(node: number): number {
    return this.tierOf(node).parentOf(node);
  }

  setParent(node: number, parent: number): void {
    this.tierOf(node).setParent(node, parent);
  }

  emailOf(node: number): string | undefined {
    return this.tierOf(node).emailOf(node);
  }

  emailTimeOf(node: number): number {
    return this.tierOf(node).emailTimeOf(node);
  }

  setEmail(node: number, email: string, time: number): void {
    this.tierOf(node).setEmail(node, email, time);
  }

  setEmailTime(node: number, time: number): void {
    this.tierOf(node).setEmailTime(node, time);
  }

  linkOf(node: number): number {
    return this.tierOf(node).linkOf(node);
  }

  linkTimeOf(node: number): number {
    return this.tierOf(node).linkTimeOf(node);
  }

  setLink(node: number, linked: number, time: number): void {
    this.tierOf(node).setLink(node, linked, time);
  }

  /** Frees the memory and deletes the temporary files. */
  close(): void {
    this.memory.close();
    this.disk?.close();
    this.disk = undefined;
  }

  private tierOf(node: number): NodeStore {
    return node < this.memory.maxSize ? this.memory : (this.disk as DiskNodes);
  }
}
