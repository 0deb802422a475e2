import type { KoalaEntry } from "../delivery/entry.js";
import { IdentityCoverage, type IdentityGraph } from "../identity/index.js";
import { personKey } from "../koala/request-body.js";
import type { RecordOrigin } from "../inputs/record.js";
import type { RecordResult } from "./processor.js";

/**
 * Gives entries without an email the email the identity graph found for their event's userId or
 * anonymousId, and counts identity coverage before and after. The stitched email becomes the
 * request's top-level `email`; the entry itself, and the event, are left as they were.
 */
export class Stitcher {
  readonly coverage = new IdentityCoverage();

  /**
   * `onUnidentified` is called with the origin of each record some of whose entries have no
   * identity, before `stitch` returns, so that the checkpoint can count the records skipped that way.
   */
  constructor(
    private readonly graph: IdentityGraph | undefined,
    private readonly onUnidentified?: (origin: RecordOrigin) => void,
  ) {}

  /** Returns the entries of a record that can be sent, stitched where needed; the rest have no identity. */
  stitch(result: RecordResult): { deliverable: KoalaEntry[]; unidentified: number } {
    const stitched = this.stitchEntries(result);
    if (stitched.unidentified > 0) {
      this.onUnidentified?.(result.origin);
    }
    return stitched;
  }

  private stitchEntries(result: RecordResult): { deliverable: KoalaEntry[]; unidentified: number } {
    const emailCount = result.entriesWithEmail;
    this.countIdentified(emailCount, result.entries.length - emailCount);
    if (result.unidentifiedNotBuilt > 0) {
      // Entries are left unbuilt only when nothing can give them an email.
      this.countUnresolved(result.unidentifiedNotBuilt, false);
    }
    if (result.unidentified.length === 0) {
      return { deliverable: result.entries, unidentified: result.unidentifiedNotBuilt };
    }

    const email = this.graph?.resolveEmail({ userId: result.identity.userId, anonymousId: result.identity.anonymousId });
    this.countUnresolved(result.unidentified.length, email !== undefined);
    if (email === undefined) {
      return { deliverable: result.entries, unidentified: result.unidentified.length + result.unidentifiedNotBuilt };
    }
    const stitched = result.unidentified.map((entry) => addEmail(entry, email));
    return { deliverable: [...result.entries, ...stitched], unidentified: result.unidentifiedNotBuilt };
  }

  /**
   * Returns the email that the graph links the event's userId to, or undefined. The email exclusion
   * checks it, because it names who did the event even when the entries carry another person's
   * email, as a staff member's invitation to a customer does. The anonymousId is not used: a browser
   * shared by a visitor and a staff member links both to one id, and the visitor's own lead must
   * not be left out for it. An entry without an email gets the anonymousId's email by stitching,
   * which the exclusion checks as the request's email anyway.
   */
  identifiedEmail(result: RecordResult): string | undefined {
    const { userId } = result.identity;
    return this.graph === undefined || userId === undefined ? undefined : this.graph.resolveId(userId);
  }

  /** Counts entries that had no identity, and whether stitching found one. */
  private countUnresolved(count: number, stitched: boolean): void {
    for (let index = 0; index < count; index += 1) {
      this.coverage.countBefore(false, false);
      this.coverage.countAfter(stitched, false);
    }
  }

  private countIdentified(withEmail: number, withProfileIdOnly: number): void {
    for (let index = 0; index < withEmail; index += 1) {
      this.coverage.countBefore(true, false);
      this.coverage.countAfter(true, false);
    }
    for (let index = 0; index < withProfileIdOnly; index += 1) {
      this.coverage.countBefore(false, true);
      this.coverage.countAfter(false, true);
    }
  }
}

function addEmail(entry: KoalaEntry, email: string): KoalaEntry {
  const person = { ...entry.person, email };
  entry.person = person;
  entry.personKey = personKey(person);
  entry.personId = person.profile_id ?? email;
  return entry;
}
