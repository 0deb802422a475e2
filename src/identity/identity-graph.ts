import { extractIdentityFacts, type IdentityFacts } from "./identity-facts.js";
import { tmpdir } from "node:os";
import type { SegmentEvent } from "../inputs/record.js";
import { emailsMatch, normalizeId, UNKNOWN_TIME } from "./event-identity.js";
import { createIdKey, hashId } from "./hash-id.js";
import { NO_NODE } from "./node-store.js";
import { TieredNodes } from "./tiered-nodes.js";

export interface IdentityGraphOptions {
  /**
   * Ids held in memory; ids beyond it go to a temporary directory (default 4,000,000). An id costs
   * about 75 bytes with its share of the email strings (bench/figures/identity.ts measured 148 MB
   * for 2,000,000 ids and 1,000,000 emails), so the default is an estimated 300 MB. Must be a
   * positive integer.
   */
  maxMemoryEntries?: number;
  /** Parent of the temporary directory for spilled ids (default: the system's temporary directory). */
  spillDirectory?: string;
}

export interface IdentityGraphStats {
  /** Ids stored: ids that carried an email, and ids linked to another id by an alias or an event. */
  ids: number;
  /** Stored ids that resolve to an email, as `resolveId` resolves them: a subset of `ids`. */
  idsWithEmail: number;
  idsInMemory: number;
  idsOnDisk: number;
  /** Events and identities-file rows that gave an email to an id. */
  emailObservations: number;
  /** Email observations that disagreed (case-insensitively) with the email an id already had. */
  conflicts: number;
  /** Email fields that held something other than an email, such as a number or a text without `@`. */
  invalidEmails: number;
  aliases: number;
  spilledToDisk: boolean;
}

/**
 * The stored ids that resolve to an email, summed up in a few bytes, so that a resumed run can tell
 * that its graph resolves other ids than the graph of the run that wrote the checkpoint.
 */
export interface ResolvedIds {
  /** As `IdentityGraphStats.idsWithEmail`. */
  idsWithEmail: number;
  /**
   * 16 hex digits: the sums, modulo 2^32, of the high and of the low halves of the 64-bit keys of
   * those ids. It does not depend on the order the ids were stored in or on their emails. NOTE: two
   * different sets of ids share it only by chance, about once in 2^64 for keys that look random.
   */
  digest: string;
}

/** The summary of a graph that resolves no id, as of a run without stitching. */
export const NO_RESOLVED_IDS: Readonly<ResolvedIds> = Object.freeze({ idsWithEmail: 0, digest: "0".repeat(16) });

export const DEFAULT_MAX_MEMORY_ENTRIES = 4_000_000;

/**
 * Milliseconds taken off the time of an email read from `properties.email`, about 31,700 years, so
 * that it is older than any email read from elsewhere and the latest of those wins. Among emails
 * read from properties, the latest still wins.
 */
const PROPERTIES_EMAIL_HANDICAP_MS = 1e15;

/**
 * Time given to an email read from elsewhere than `properties.email` on an event without a
 * readable time. It is later than every email from properties with a time (those are below
 * -1e15 + 2e13 for dates before the year 2600), so the handicap applies to untimed events too, and
 * earlier than every timed email, as an unknown time was before.
 */
const UNTIMED_EMAIL_TIME_MS = -PROPERTIES_EMAIL_HANDICAP_MS / 2;

/**
 * Maps Segment's `userId` and `anonymousId` to the email Koala needs, from a first pass over the
 * archive (and optionally an identities file). Three kinds of facts are stored:
 *
 * - An email seen on an event belongs to the event's `userId` and `anonymousId`. When an id has
 *   several, the one with the latest time wins; on equal times, the one observed last. An email
 *   read from `properties.email` counts as older than any other (see PROPERTIES_EMAIL_HANDICAP_MS).
 * - An alias call joins `previousId` and `userId` into one set, transitively, in either direction:
 *   the whole set shares the latest email of its members.
 * - A `userId` and an `anonymousId` seen on one event without an email are linked, as Segment's
 *   identity graph links them, so that the pages a visitor saw before logging in get the email that
 *   arrives with the user's identify. Each alias set keeps its latest link. A link is followed one hop,
 *   and only when the set has no email of its own. It is not a merge, because a browser shared by two
 *   users must not join their identities.
 *
 * Ids seen alone without an email are not stored: their email can only come from an event that
 * carries the id itself, and that event stores it. Ids seen together or in an alias are stored even
 * before an email arrives, because the email may come later in the pass.
 *
 * Call `close()` when done, to delete the temporary files of a spilled graph.
 */
export class IdentityGraph {
  private readonly nodes: TieredNodes;
  private readonly key = createIdKey();
  private emailObservations = 0;
  private conflicts = 0;
  private invalidEmails = 0;
  private aliases = 0;
  /** Observations so far, so that `stats()` counts the ids with an email again only after a change. */
  private revision = 0;
  private resolvedIdsCache: { revision: number; resolved: ResolvedIds } | undefined;

  constructor(options: IdentityGraphOptions = {}) {
    const maxMemoryEntries = options.maxMemoryEntries ?? DEFAULT_MAX_MEMORY_ENTRIES;
    if (!Number.isSafeInteger(maxMemoryEntries) || maxMemoryEntries < 1) {
      throw new RangeError(`maxMemoryEntries must be a positive integer, got ${String(maxMemoryEntries)}.`);
    }
    this.nodes = new TieredNodes(maxMemoryEntries, options.spillDirectory ?? tmpdir());
  }

  /** Stores the ids, email and aliases of one event of the first pass. */
  observe(event: SegmentEvent): void {
    const facts = extractIdentityFacts(event);
    if (facts !== undefined) {
      this.observeFacts(facts);
    }
  }

  /** Stores what `extractIdentityFacts` read from an event, possibly in a worker thread. */
  observeFacts(facts: IdentityFacts): void {
    this.revision++;
    const { userId, anonymousId, email } = facts;
    if (facts.isAlias) {
      this.observeAlias(facts.aliasOf, userId);
    }
    if (email === null) {
      this.invalidEmails++;
    }
    if (typeof email === "string") {
      // An email from properties loses to one that the user's identify calls, traits or top-level email give, whatever their times.
      this.observeEmail(userId, anonymousId, email, emailTime(facts));
    } else if (userId !== undefined && anonymousId !== undefined) {
      this.observeLink(userId, anonymousId, facts.time);
    }
  }

  /**
   * Records that `userId` and `anonymousId` (either may be undefined) belong to `email`, observed at
   * `time` in epoch milliseconds. `email` must already be trimmed and valid.
   */
  observeEmail(userId: string | undefined, anonymousId: string | undefined, email: string, time: number): void {
    if (userId === undefined && anonymousId === undefined) return;

    this.revision++;
    this.emailObservations++;
    if (userId !== undefined) this.assignEmail(this.findOrAdd(userId), email, time);
    if (anonymousId !== undefined) this.assignEmail(this.findOrAdd(anonymousId), email, time);
  }

  /** Returns the email for an event from its `userId`, else its `anonymousId`. The event's own email fields are not read. */
  resolveEmail(event: SegmentEvent): string | undefined {
    const userNode = this.findId(normalizeId(event["userId"]));
    const anonymousNode = this.findId(normalizeId(event["anonymousId"]));

    return (
      this.emailOfSet(userNode) ??
      this.emailOfSet(anonymousNode) ??
      this.emailOfLink(userNode) ??
      this.emailOfLink(anonymousNode)
    );
  }

  /** Returns the email of one id (a `userId`, `anonymousId` or `previousId`), following aliases and links. */
  resolveId(id: unknown): string | undefined {
    const node = this.findId(normalizeId(id));
    return this.emailOfSet(node) ?? this.emailOfLink(node);
  }

  stats(): IdentityGraphStats {
    return {
      ids: this.nodes.size,
      idsWithEmail: this.resolvedIds().idsWithEmail,
      idsInMemory: this.nodes.memorySize,
      idsOnDisk: this.nodes.diskSize,
      emailObservations: this.emailObservations,
      conflicts: this.conflicts,
      invalidEmails: this.invalidEmails,
      aliases: this.aliases,
      spilledToDisk: this.nodes.diskSize > 0,
    };
  }

  /** Temporary directory holding the ids beyond `maxMemoryEntries`, while there is one. */
  get spillDirectory(): string | undefined {
    return this.nodes.diskDirectory;
  }

  /** Frees the graph and deletes its temporary files. The graph is empty afterwards. */
  close(): void {
    this.nodes.close();
  }

  /**
   * Counts the stored ids that resolve to an email and sums their keys, in one pass over the nodes,
   * and caches the result until the next observation. An id the graph does not store has no email in
   * it, so none is missed.
   */
  resolvedIds(): ResolvedIds {
    if (this.resolvedIdsCache?.revision === this.revision) return this.resolvedIdsCache.resolved;

    let count = 0;
    let highSum = 0;
    let lowSum = 0;
    const key = createIdKey();
    // Node numbers are dense from 0, on disk as in memory, because the disk tier starts where memory is full.
    for (let node = 0; node < this.nodes.size; node++) {
      if (this.emailOfSet(node) === undefined && this.emailOfLink(node) === undefined) continue;

      count++;
      this.nodes.keyOf(node, key);
      highSum = (highSum + key[0]!) >>> 0;
      lowSum = (lowSum + key[1]!) >>> 0;
    }
    const digest = `${highSum.toString(16).padStart(8, "0")}${lowSum.toString(16).padStart(8, "0")}`;
    const resolved = { idsWithEmail: count, digest };
    this.resolvedIdsCache = { revision: this.revision, resolved };
    return resolved;
  }

  private observeAlias(previousId: string | undefined, userId: string | undefined): void {
    if (previousId === undefined || userId === undefined || previousId === userId) return;

    this.aliases++;
    this.union(this.findOrAdd(previousId), this.findOrAdd(userId));
  }

  private observeLink(userId: string, anonymousId: string, time: number): void {
    if (userId === anonymousId) return;

    const userRoot = this.rootOf(this.findOrAdd(userId));
    const anonymousRoot = this.rootOf(this.findOrAdd(anonymousId));
    if (userRoot === anonymousRoot) return;

    if (time >= this.nodes.linkTimeOf(userRoot)) this.nodes.setLink(userRoot, anonymousRoot, time);
    if (time >= this.nodes.linkTimeOf(anonymousRoot)) this.nodes.setLink(anonymousRoot, userRoot, time);
  }

  /** Gives the email to the set of `node` unless the set has a later one, and counts a disagreement. */
  private assignEmail(node: number, email: string, time: number): void {
    const root = this.rootOf(node);
    const current = this.nodes.emailOf(root);

    if (current === undefined) {
      this.nodes.setEmail(root, email, time);
      return;
    }

    const isNewer = time >= this.nodes.emailTimeOf(root);
    if (current === email) {
      if (isNewer) this.nodes.setEmailTime(root, time);
      return;
    }
    if (!emailsMatch(current, email)) this.conflicts++;
    if (isNewer) this.nodes.setEmail(root, email, time);
  }

  /**
   * Joins two alias sets. The root with the lower node number stays the root. It keeps the later of
   * the two emails and the later of the two links, and its own on equal times.
   */
  private union(first: number, second: number): void {
    const firstRoot = this.rootOf(first);
    const secondRoot = this.rootOf(second);
    if (firstRoot === secondRoot) return;

    const root = Math.min(firstRoot, secondRoot);
    const child = Math.max(firstRoot, secondRoot);
    this.nodes.setParent(child, root);
    this.mergeLink(root, child);
    this.mergeEmail(root, child);
  }

  private mergeLink(root: number, child: number): void {
    const childLink = this.nodes.linkOf(child);
    const childLinkTime = this.nodes.linkTimeOf(child);
    if (childLink === NO_NODE) return;

    if (this.nodes.linkOf(root) === NO_NODE || childLinkTime > this.nodes.linkTimeOf(root)) {
      this.nodes.setLink(root, childLink, childLinkTime);
    }
  }

  private mergeEmail(root: number, child: number): void {
    const childEmail = this.nodes.emailOf(child);
    if (childEmail === undefined) return;

    const rootEmail = this.nodes.emailOf(root);
    const childTime = this.nodes.emailTimeOf(child);
    if (rootEmail !== undefined && !emailsMatch(rootEmail, childEmail)) this.conflicts++;
    if (rootEmail === undefined || childTime > this.nodes.emailTimeOf(root)) {
      this.nodes.setEmail(root, childEmail, childTime);
    }
  }

  /** Finds the root of the alias set of `node`, halving the path on the way. */
  private rootOf(node: number): number {
    let current = node;
    let parent = this.nodes.parentOf(current);

    while (parent !== NO_NODE) {
      const grandparent = this.nodes.parentOf(parent);
      if (grandparent === NO_NODE) return parent;

      this.nodes.setParent(current, grandparent);
      current = grandparent;
      parent = this.nodes.parentOf(current);
    }
    return current;
  }

  private emailOfSet(node: number): string | undefined {
    return node === NO_NODE ? undefined : this.nodes.emailOf(this.rootOf(node));
  }

  /** Returns the email of the set that the set of `node` is linked to, if any. */
  private emailOfLink(node: number): string | undefined {
    if (node === NO_NODE) return undefined;

    const linked = this.nodes.linkOf(this.rootOf(node));
    return linked === NO_NODE ? undefined : this.emailOfSet(linked);
  }

  private findId(id: string | undefined): number {
    if (id === undefined) return NO_NODE;
    hashId(id, this.key);
    return this.nodes.find(this.key);
  }

  private findOrAdd(id: string): number {
    hashId(id, this.key);
    const node = this.nodes.find(this.key);
    return node === NO_NODE ? this.nodes.add(this.key) : node;
  }
}

/** Returns the time at which the graph weighs the email of `facts` (see PROPERTIES_EMAIL_HANDICAP_MS). */
function emailTime(facts: IdentityFacts): number {
  if (facts.emailInProperties === true) {
    return facts.time - PROPERTIES_EMAIL_HANDICAP_MS;
  }
  return facts.time === UNKNOWN_TIME ? UNTIMED_EMAIL_TIME_MS : facts.time;
}
