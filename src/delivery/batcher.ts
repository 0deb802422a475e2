import type { RecordProgress } from "./checkpoint.js";
import { entrySize, type KoalaEntry, type PersonKey, personKeyOf, samePersonKey } from "./entry.js";

/** Entries of one person, sent together in one `/batch` request. */
export interface Batch {
  lane: PersonLane;
  personKey: PersonKey;
  entries: KoalaEntry[];
  /**
   * The record of each entry, at the same index. Records that are not tracked (stdin, a dry run) are
   * undefined, and the list ends after the last tracked one, so a batch of untracked records fills none.
   */
  records: (RecordProgress | undefined)[];
  /** Size of the entries' JSON (see `entrySize`), for buffer bounds. */
  bytes: number;
  eventCount: number;
  identifyCount: number;
  openedAtTick: number;
  /** Attempts made so far. */
  attempts: number;
  /** When the first attempt of these entries started (epoch ms), kept across splits; 0 before it. */
  firstAttemptAtMs: number;
}

/**
 * The requests of one person, who is identified by `profile_id`, else `email`. A lane sends one
 * request at a time, so Koala receives a person's entries in input order.
 */
export interface PersonLane {
  key: string;
  open: Batch | undefined;
  /** Closed batches in input order, waiting for the lane's request in flight. */
  queued: Batch[];
  /** Whether a request of this lane is in flight or waiting to be retried. */
  busy: boolean;
  /** Whether the lane is in the sender's queue of lanes with a batch to send. */
  scheduled: boolean;
}

export interface BatcherLimits {
  maxBatchSize: number;
  maxBufferedPersons: number;
  maxBufferedBytes: number;
  flushAfterRecords: number;
}

/**
 * Packs entries into per-person batches. Batches depend only on the order of entries and records
 * read, never on timing, so a dry run prints the batches a real run sends.
 *
 * Entries share a batch only when their person fields (`personKey`) are identical, and a person
 * whose fields change starts a new batch, so a batched request means what the single requests
 * would have meant, in the same order.
 */
export class Batcher {
  private readonly lanes = new Map<string, PersonLane>();
  /**
   * Batches in the order they were opened, oldest from `openHead`; closed ones are skipped when met.
   * A plain queue, because iterating a Set after many deletions scans the deleted slots again.
   */
  private openQueue: Batch[] = [];
  private openHead = 0;
  private openCount = 0;
  private openBytes = 0;
  private tick = 0;
  /** A lane whose batch is being closed to open another at once, which `releaseIfIdle` must keep. */
  private reopenedLane: PersonLane | undefined;

  constructor(
    private readonly limits: BatcherLimits,
    private readonly onBatchClosed: (lane: PersonLane) => void,
  ) {}

  add(entry: KoalaEntry, record: RecordProgress | undefined): void {
    const lane = this.laneFor(entry);
    let batch = lane.open;
    const personKey = personKeyOf(entry);
    if (batch !== undefined && !samePersonKey(batch.personKey, personKey)) {
      // A dry run sends the closed batch at once. The lane stays, because its next batch opens below.
      this.reopenedLane = lane;
      this.close(batch);
      this.reopenedLane = undefined;
      batch = undefined;
    }
    if (batch === undefined) {
      batch = this.openBatch(lane, personKey, entry);
    } else {
      batch.entries.push(entry);
    }
    if (record !== undefined) {
      while (batch.records.length < batch.entries.length - 1) {
        batch.records.push(undefined);
      }
      batch.records.push(record);
    }
    const size = entrySize(entry);
    batch.bytes += size;
    this.openBytes += size;
    if (entry.kind === "events") {
      batch.eventCount += 1;
    } else {
      batch.identifyCount += 1;
    }

    if (batch.eventCount >= this.limits.maxBatchSize || batch.identifyCount >= this.limits.maxBatchSize) {
      this.close(batch);
    }
    this.enforceBounds();
  }

  /** Counts one record read and closes the batches that have waited `flushAfterRecords` records. */
  advance(): void {
    this.tick += 1;
    const oldestAllowedTick = this.tick - this.limits.flushAfterRecords;
    for (let batch = this.oldestOpen(); batch !== undefined && batch.openedAtTick <= oldestAllowedTick; batch = this.oldestOpen()) {
      this.close(batch);
    }
  }

  closeAll(): void {
    for (let batch = this.oldestOpen(); batch !== undefined; batch = this.oldestOpen()) {
      this.close(batch);
    }
  }

  /** Forgets a lane with nothing left, so memory follows the persons in flight, not all persons seen. */
  releaseIfIdle(lane: PersonLane): void {
    if (lane !== this.reopenedLane && !lane.busy && lane.open === undefined && lane.queued.length === 0) {
      this.lanes.delete(lane.key);
    }
  }

  private enforceBounds(): void {
    while (this.openCount > this.limits.maxBufferedPersons || this.openBytes > this.limits.maxBufferedBytes) {
      const batch = this.oldestOpen();
      if (batch === undefined) {
        return;
      }
      this.close(batch);
    }
  }

  /** Returns the oldest batch still open, dropping closed ones from the front of the queue. */
  private oldestOpen(): Batch | undefined {
    while (this.openHead < this.openQueue.length) {
      const batch = this.openQueue[this.openHead] as Batch;
      if (batch.lane.open === batch) {
        return batch;
      }
      this.openHead += 1;
    }
    if (this.openHead > 0) {
      this.openQueue = [];
      this.openHead = 0;
    }
    return undefined;
  }

  private laneFor(entry: KoalaEntry): PersonLane {
    // String() because a profile_id can be a number in an archive, and 123 and "123" are one person.
    const key = String(entry.personId ?? entry.person.profile_id ?? entry.person.email ?? entry.personKey);
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { key, open: undefined, queued: [], busy: false, scheduled: false };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /**
   * Opens a batch that contains `entry`. Most batches contain one entry. An array literal allocates
   * room for its elements only, but `push` on an empty array allocates room for 17 (V8 11, Node 20).
   */
  private openBatch(lane: PersonLane, personKey: PersonKey, entry: KoalaEntry): Batch {
    const batch: Batch = {
      lane,
      personKey,
      entries: [entry],
      records: [],
      bytes: 0,
      eventCount: 0,
      identifyCount: 0,
      openedAtTick: this.tick,
      attempts: 0,
      firstAttemptAtMs: 0,
    };
    lane.open = batch;
    this.openQueue.push(batch);
    this.openCount += 1;
    this.compactOpenQueue();
    return batch;
  }

  private compactOpenQueue(): void {
    if (this.openHead > 1024 && this.openHead * 2 > this.openQueue.length) {
      this.openQueue = this.openQueue.slice(this.openHead);
      this.openHead = 0;
    }
  }

  private close(batch: Batch): void {
    this.openCount -= 1;
    this.openBytes -= batch.bytes;
    batch.lane.open = undefined;
    // Also a literal, as in `openBatch`, because most lanes have no other batch queued.
    if (batch.lane.queued.length === 0) {
      batch.lane.queued = [batch];
    } else {
      batch.lane.queued.push(batch);
    }
    this.onBatchClosed(batch.lane);
  }
}

/** Splits a batch into two halves in input order, for finding the entries a 400 rejects. */
export function splitBatch(batch: Batch): [Batch, Batch] {
  const middle = Math.ceil(batch.entries.length / 2);
  return [sliceBatch(batch, 0, middle), sliceBatch(batch, middle, batch.entries.length)];
}

function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const entries = batch.entries.slice(start, end);
  let bytes = 0;
  let eventCount = 0;
  for (const entry of entries) {
    bytes += entrySize(entry);
    eventCount += entry.kind === "events" ? 1 : 0;
  }
  return {
    lane: batch.lane,
    personKey: batch.personKey,
    entries,
    records: batch.records.slice(start, end),
    bytes,
    eventCount,
    identifyCount: entries.length - eventCount,
    openedAtTick: batch.openedAtTick,
    attempts: 0,
    firstAttemptAtMs: batch.firstAttemptAtMs,
  };
}
