import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAll } from "../files/write-all.js";
import type { IdKey } from "./hash-id.js";
import { NO_NODE, type NodeStore } from "./node-store.js";
import { UNKNOWN_TIME } from "./event-identity.js";

/*
 * Layout of a node record in nodes.bin, little-endian, 48 bytes:
 *   0 key high u32 | 4 key low u32 | 8 parent i32 | 12 link i32 | 16 email byte length u32 (0: none)
 *   20 unused | 24 email offset in emails.bin f64 | 32 email time f64 | 40 link time f64
 * index.bin is an open-addressing hash table of 12-byte slots: key high, key low, node + 1 (0: empty).
 */
const RECORD_BYTES = 48;
const SLOT_BYTES = 12;
const SLOTS_PER_READ = 16;
const INITIAL_SLOT_COUNT = 1 << 16;
/** Nodes read at once while the index is rebuilt. */
const REBUILD_BATCH_NODES = 4096;

const KEY_HIGH = 0;
const KEY_LOW = 4;
const PARENT = 8;
const LINK = 12;
const EMAIL_LENGTH = 16;
const EMAIL_OFFSET = 24;
const EMAIL_TIME = 32;
const LINK_TIME = 40;

/**
 * A file of the identity graph kept on disk could not be created or written, most often because
 * the disk of the temporary directory is full. The run stops, because an identity cut short would
 * give events the wrong email or none.
 */
export class IdentityGraphWriteError extends Error {
  readonly hint: string;

  /** `parentDirectory` is the folder that the graph's temporary directory is created in. */
  constructor(path: string, parentDirectory: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`the identity graph could not be written to ${path} (${reason})`, { cause });
    this.name = "IdentityGraphWriteError";
    this.hint =
      `free space on the disk of ${parentDirectory}, or set TMPDIR to a folder on a disk with more free space: ` +
      "the first pass keeps the ids that do not fit in memory in temporary files there";
  }
}

/**
 * Nodes kept in files of a temporary directory, for graphs larger than the memory budget. Every
 * access is a positioned read or write, so it is much slower than {@link MemoryNodes} but keeps no
 * more than about 200 KB in memory (the batch read while the index is rebuilt). Node numbers start at `firstNode`. `close()` deletes the files.
 */
export class DiskNodes implements NodeStore {
  readonly directory: string;
  readonly firstNode: number;
  size = 0;

  private readonly nodesFile: number;
  private readonly emailsFile: number;
  private indexFile: number;
  private slotCount = INITIAL_SLOT_COUNT;
  private emailBytes = 0;
  private closed = false;

  private readonly record = Buffer.alloc(RECORD_BYTES);
  private readonly slotBatch = Buffer.alloc(SLOT_BYTES * SLOTS_PER_READ);
  private readonly field = Buffer.alloc(8);
  private emailBuffer = Buffer.alloc(256);
  /** Deletes the files if the process exits without `close()`, for example after an uncaught error. */
  private readonly removeOnExit = (): void => this.close();

  constructor(parentDirectory: string, firstNode: number) {
    try {
      this.directory = mkdtempSync(join(parentDirectory, "koala-replay-identity-"));
    } catch (error) {
      throw new IdentityGraphWriteError(join(parentDirectory, "koala-replay-identity-*"), parentDirectory, error);
    }
    this.firstNode = firstNode;
    try {
      this.nodesFile = openSync(join(this.directory, "nodes.bin"), "w+");
      this.emailsFile = openSync(join(this.directory, "emails.bin"), "w+");
      this.indexFile = this.createIndexFile("index.bin", this.slotCount);
    } catch (error) {
      // The exit listener that deletes the directory is not registered yet.
      rmSync(this.directory, { recursive: true, force: true });
      throw error instanceof IdentityGraphWriteError ? error : new IdentityGraphWriteError(this.directory, parentDirectory, error);
    }
    process.once("exit", this.removeOnExit);
  }

  find(key: IdKey): number {
    const found = this.findSlot(key);
    return found.node;
  }

  add(key: IdKey): number {
    if ((this.size + 1) * 2 > this.slotCount) {
      this.rebuildIndex(this.slotCount * 2);
    }
    const local = this.size;

    this.record.fill(0);
    this.record.writeUInt32LE(key[0]!, KEY_HIGH);
    this.record.writeUInt32LE(key[1]!, KEY_LOW);
    this.record.writeInt32LE(NO_NODE, PARENT);
    this.record.writeInt32LE(NO_NODE, LINK);
    this.record.writeDoubleLE(UNKNOWN_TIME, EMAIL_TIME);
    this.record.writeDoubleLE(UNKNOWN_TIME, LINK_TIME);
    this.write(this.nodesFile, "nodes.bin", this.record, local * RECORD_BYTES);
    this.size += 1;

    const slot = this.findSlot(key).slot;
    this.writeSlot(this.indexFile, "index.bin", slot, key[0]!, key[1]!, local);
    return this.firstNode + local;
  }

  keyOf(node: number, key: IdKey): void {
    readSync(this.nodesFile, this.field, 0, 8, this.recordPosition(node) + KEY_HIGH);
    key[0] = this.field.readUInt32LE(0);
    key[1] = this.field.readUInt32LE(4);
  }

  parentOf(node: number): number {
    return this.readInt32(node, PARENT);
  }

  setParent(node: number, parent: number): void {
    this.writeInt32(node, PARENT, parent);
  }

  emailOf(node: number): string | undefined {
    this.readRecord(node);
    const length = this.record.readUInt32LE(EMAIL_LENGTH);
    if (length === 0) return undefined;

    if (this.emailBuffer.length < length) this.emailBuffer = Buffer.alloc(length);
    const offset = this.record.readDoubleLE(EMAIL_OFFSET);
    readSync(this.emailsFile, this.emailBuffer, 0, length, offset);
    return this.emailBuffer.toString("utf8", 0, length);
  }

  emailTimeOf(node: number): number {
    return this.readDouble(node, EMAIL_TIME);
  }

  /** Appends the email to emails.bin; an email replaced later stays in the file until `close()`. */
  setEmail(node: number, email: string, time: number): void {
    const length = Buffer.byteLength(email);
    if (this.emailBuffer.length < length) this.emailBuffer = Buffer.alloc(length);
    this.emailBuffer.write(email, 0, "utf8");
    this.write(this.emailsFile, "emails.bin", this.emailBuffer.subarray(0, length), this.emailBytes);

    this.readRecord(node);
    this.record.writeUInt32LE(length, EMAIL_LENGTH);
    this.record.writeDoubleLE(this.emailBytes, EMAIL_OFFSET);
    this.record.writeDoubleLE(time, EMAIL_TIME);
    this.write(this.nodesFile, "nodes.bin", this.record.subarray(EMAIL_LENGTH), this.recordPosition(node) + EMAIL_LENGTH);
    this.emailBytes += length;
  }

  setEmailTime(node: number, time: number): void {
    this.field.writeDoubleLE(time, 0);
    this.write(this.nodesFile, "nodes.bin", this.field, this.recordPosition(node) + EMAIL_TIME);
  }

  linkOf(node: number): number {
    return this.readInt32(node, LINK);
  }

  linkTimeOf(node: number): number {
    return this.readDouble(node, LINK_TIME);
  }

  setLink(node: number, linked: number, time: number): void {
    this.writeInt32(node, LINK, linked);
    this.field.writeDoubleLE(time, 0);
    this.write(this.nodesFile, "nodes.bin", this.field, this.recordPosition(node) + LINK_TIME);
  }

  /** Closes and deletes the files. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener("exit", this.removeOnExit);
    closeSync(this.nodesFile);
    closeSync(this.emailsFile);
    closeSync(this.indexFile);
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** Finds the slot holding `key`, or the empty slot where it belongs. */
  private findSlot(key: IdKey): { slot: number; node: number } {
    const high = key[0]!;
    const low = key[1]!;
    const mask = this.slotCount - 1;
    let slot = low & mask;

    for (;;) {
      const batchSlots = Math.min(SLOTS_PER_READ, this.slotCount - slot);
      readSync(this.indexFile, this.slotBatch, 0, batchSlots * SLOT_BYTES, slot * SLOT_BYTES);

      for (let index = 0; index < batchSlots; index++) {
        const stored = this.slotBatch.readInt32LE(index * SLOT_BYTES + 8);
        if (stored === 0) return { slot: slot + index, node: NO_NODE };

        const matches =
          this.slotBatch.readUInt32LE(index * SLOT_BYTES + 4) === low &&
          this.slotBatch.readUInt32LE(index * SLOT_BYTES) === high;
        if (matches) return { slot: slot + index, node: this.firstNode + stored - 1 };
      }
      slot = (slot + batchSlots) & mask;
    }
  }

  /** Doubles the index: writes a new file from the node records, then replaces the old one. */
  private rebuildIndex(slotCount: number): void {
    const nextFile = this.createIndexFile("index-next.bin", slotCount);
    const batch = Buffer.alloc(REBUILD_BATCH_NODES * RECORD_BYTES);
    const previousFile = this.indexFile;
    this.indexFile = nextFile;
    this.slotCount = slotCount;
    const key = new Uint32Array(2);

    for (let start = 0; start < this.size; start += REBUILD_BATCH_NODES) {
      const count = Math.min(REBUILD_BATCH_NODES, this.size - start);
      readSync(this.nodesFile, batch, 0, count * RECORD_BYTES, start * RECORD_BYTES);

      for (let index = 0; index < count; index++) {
        key[0] = batch.readUInt32LE(index * RECORD_BYTES + KEY_HIGH);
        key[1] = batch.readUInt32LE(index * RECORD_BYTES + KEY_LOW);
        this.writeSlot(nextFile, "index-next.bin", this.findSlot(key).slot, key[0], key[1], start + index);
      }
    }

    closeSync(previousFile);
    renameSync(join(this.directory, "index-next.bin"), join(this.directory, "index.bin"));
  }

  private createIndexFile(name: string, slotCount: number): number {
    const file = openSync(join(this.directory, name), "w+");
    try {
      ftruncateSync(file, slotCount * SLOT_BYTES);
    } catch (error) {
      closeSync(file);
      throw new IdentityGraphWriteError(join(this.directory, name), dirname(this.directory), error);
    }
    return file;
  }

  /** Writes all of `bytes` at `position`, or throws an {@link IdentityGraphWriteError} that names the file. */
  private write(file: number, fileName: string, bytes: Uint8Array, position: number): void {
    try {
      writeAll(file, bytes, position);
    } catch (error) {
      throw new IdentityGraphWriteError(join(this.directory, fileName), dirname(this.directory), error);
    }
  }

  private writeSlot(file: number, fileName: string, slot: number, high: number, low: number, local: number): void {
    const entry = this.slotBatch.subarray(0, SLOT_BYTES);
    entry.writeUInt32LE(high, 0);
    entry.writeUInt32LE(low, 4);
    entry.writeInt32LE(local + 1, 8);
    this.write(file, fileName, entry, slot * SLOT_BYTES);
  }

  private recordPosition(node: number): number {
    return (node - this.firstNode) * RECORD_BYTES;
  }

  private readRecord(node: number): void {
    readSync(this.nodesFile, this.record, 0, RECORD_BYTES, this.recordPosition(node));
  }

  private readInt32(node: number, offset: number): number {
    readSync(this.nodesFile, this.field, 0, 4, this.recordPosition(node) + offset);
    return this.field.readInt32LE(0);
  }

  private writeInt32(node: number, offset: number, value: number): void {
    this.field.writeInt32LE(value, 0);
    this.write(this.nodesFile, "nodes.bin", this.field.subarray(0, 4), this.recordPosition(node) + offset);
  }

  private readDouble(node: number, offset: number): number {
    readSync(this.nodesFile, this.field, 0, 8, this.recordPosition(node) + offset);
    return this.field.readDoubleLE(0);
  }
}
