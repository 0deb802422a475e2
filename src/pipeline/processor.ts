import type { KoalaEntry } from "../delivery/entry.js";
import { DEAD_LETTER_MARKER, InvalidDeadLetterLineError, readDeadLetterLine } from "../delivery/dead-letter.js";
import { deriveMessageId } from "../inputs/message-id.js";
import type { RecordOrigin, SegmentEvent } from "../inputs/record.js";
import type { ActionId } from "../koala/fields.js";
import { buildRequestParts, hasIdentity, personKey } from "../koala/request-body.js";
import { describeValue } from "../mappings/value-types.js";
import { isAnalyticsJsEvent, keepsBrowserEvent, type BrowserEventsPolicy } from "./browser-events.js";
import type { MappingVerdict, SkipReason } from "./outcomes.js";

/** One mapping of the config, compiled: its trigger, its field mapping and its payload check. */
export interface CompiledRule {
  name: string;
  action: ActionId;
  matches(event: SegmentEvent): boolean;
  /** Maps the event to the action's payload; throws an Error whose message is the reason when the event cannot be mapped. */
  apply(event: SegmentEvent): Record<string, unknown>;
  /** Returns why the payload cannot be sent (a missing required field, a wrong type), or undefined. */
  validate(payload: Record<string, unknown>): string | undefined;
}

export interface ProcessorRules {
  rules: readonly CompiledRule[];
  /** The extra trigger of `--filter`, `--since` and `--until`, applied before the mappings. */
  filter?: (event: SegmentEvent) => boolean;
  /** Readers of the fields that the filter reads, in `listFilterFields` order, to record which ones an excluded event has. */
  filterFieldReaders?: ReadonlyArray<(event: SegmentEvent) => unknown>;
  browserEvents: BrowserEventsPolicy;
  /**
   * Whether entries without an email or a profile_id are built, for identity stitching to complete.
   * Without stitching nothing can identify them, so they are only counted, which spares their
   * serialisation (17 % of the events of the benchmark's generated archive).
   */
  buildsUnidentified: boolean;
  /** Whether a worker passes on the ids of every event with entries, as `ProcessorConfig.keepsIdentity` describes. */
  keepsIdentity?: boolean;
}

/** The ids that identity stitching looks up when an entry has no email. */
export interface EventIdentity {
  userId?: string;
  anonymousId?: string;
}

/** Outcome of one event read from the input. */
export interface RecordResult {
  origin: RecordOrigin;
  /** Entries to deliver, one per mapping that produced one, each with an email or a profile_id. */
  entries: KoalaEntry[];
  /** Entries without an email or a profile_id: identity stitching may still find the person. */
  unidentified: KoalaEntry[];
  /** Entries without an email or a profile_id that were counted but not built, because `buildsUnidentified` is off. */
  unidentifiedNotBuilt: number;
  /** How many of `entries` have an email (the rest have a profile_id only), for the identity coverage. */
  entriesWithEmail: number;
  /** Names of the mappings whose trigger matched. */
  matched: string[];
  /** Verdicts of the matched mappings that produced no entry. */
  verdicts: MappingVerdict[];
  /** Set when the whole event was skipped before any mapping produced a verdict. */
  skipped?: SkipReason;
  /**
   * For an event excluded by the filter: bit i is set when the event has field i of `listFilterFields`,
   * to explain a filter that excludes every event because no event has a field it tests.
   */
  filterFieldsPresent?: number;
  /** Set for a line of a dead-letter file given as input, which is sent again as written, without a trigger. */
  resentDeadLetter?: true;
  /** The event's `type` when no mapping matched, to explain a run that sends nothing. */
  unmatchedType?: string;
  identity: EventIdentity;
}

/**
 * Runs one event through the filter and every mapping, as Segment runs an event through each
 * subscription of a destination: an event matched by several mappings yields one entry per mapping.
 * Pure apart from filling in a missing `messageId`, so it can run in a worker thread.
 */
export function processEvent(event: SegmentEvent, origin: RecordOrigin, eventJson: string | undefined, rules: ProcessorRules): RecordResult {
  const result: RecordResult = { origin, entries: [], unidentified: [], unidentifiedNotBuilt: 0, entriesWithEmail: 0, matched: [], verdicts: [], identity: identityOf(event) };
  if (event[DEAD_LETTER_MARKER] !== undefined) {
    return resendDeadLetter(event, result);
  }
  if (rules.filter !== undefined && !rules.filter(event)) {
    result.skipped = "filtered-out";
    result.filterFieldsPresent = presentFieldBits(rules.filterFieldReaders, event);
    return result;
  }
  if (event["messageId"] === undefined || event["messageId"] === null || event["messageId"] === "") {
    event["messageId"] = deriveMessageId(event);
  }

  let serialisedEvent = eventJson;
  for (const rule of rules.rules) {
    if (!rule.matches(event)) {
      continue;
    }
    result.matched.push(rule.name);
    if (rule.action === "trackEvent" && isAnalyticsJsEvent(event) && !keepsBrowserEvent(rules.browserEvents, event)) {
      result.verdicts.push({ kind: "skipped", mapping: rule.name, reason: "browser-event" });
      continue;
    }
    const mapped = mapToEntry(rule, event, origin, rules.buildsUnidentified);
    if (mapped === NOT_BUILT) {
      result.unidentifiedNotBuilt += 1;
      continue;
    }
    if (typeof mapped === "string") {
      result.verdicts.push({ kind: "invalid", mapping: rule.name, reason: mapped });
      continue;
    }
    serialisedEvent ??= JSON.stringify(event);
    mapped.entry.eventJson = serialisedEvent;
    if (mapped.entry.person.email) {
      result.entriesWithEmail += 1;
    }
    (mapped.identified ? result.entries : result.unidentified).push(mapped.entry);
  }
  if (result.matched.length === 0) {
    result.skipped = "no-mapping-matched";
    const type = event["type"];
    result.unmatchedType = typeof type === "string" ? type : `(type ${JSON.stringify(type) ?? "missing"})`;
  }
  return result;
}

function presentFieldBits(readers: ReadonlyArray<(event: SegmentEvent) => unknown> | undefined, event: SegmentEvent): number {
  let bits = 0;
  readers?.forEach((read, index) => {
    if (read(event) !== undefined) {
      bits |= 1 << index;
    }
  });
  return bits;
}

/** The value `mapToEntry` returns for an entry without identity that it does not build. */
const NOT_BUILT = Symbol("not built");

/**
 * Maps one event with one rule into an entry, or returns why it cannot be sent. An entry without an
 * email or a profile_id is built only when `buildsUnidentified` is set.
 */
function mapToEntry(rule: CompiledRule, event: SegmentEvent, origin: RecordOrigin, buildsUnidentified: boolean): { entry: KoalaEntry; identified: boolean } | string | typeof NOT_BUILT {
  let payload: Record<string, unknown>;
  try {
    payload = rule.apply(event);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const problem = rule.validate(payload);
  if (problem !== undefined) {
    return problem;
  }
  const parts = buildRequestParts(rule.action, payload);
  const identified = hasIdentity(parts.person);
  if (!identified && !buildsUnidentified) {
    return NOT_BUILT;
  }
  const entry: KoalaEntry = {
    kind: parts.kind,
    person: parts.person,
    personKey: personKey(parts.person),
    entryJson: JSON.stringify(parts.entry),
    messageId: String(payload["message_id"]),
    mappingName: rule.name,
    origin,
    eventJson: "",
  };
  return { entry, identified };
}

function identityOf(event: SegmentEvent): EventIdentity {
  const identity: EventIdentity = {};
  const userId = event["userId"];
  const anonymousId = event["anonymousId"];
  if ((typeof userId === "string" && userId !== "") || typeof userId === "number") {
    identity.userId = String(userId);
  }
  if ((typeof anonymousId === "string" && anonymousId !== "") || typeof anonymousId === "number") {
    identity.anonymousId = String(anonymousId);
  }
  return identity;
}

/**
 * Takes a line of a dead-letter file as the entry it failed to deliver, so that it is sent again
 * exactly as it was, without mapping its event again. Its origin becomes the dead-letter file's line,
 * which the checkpoint then tracks. No trigger decided anything, so the result names no matched
 * mapping and no skip reason.
 */
function resendDeadLetter(event: SegmentEvent, result: RecordResult): RecordResult {
  result.resentDeadLetter = true;
  let entry: KoalaEntry | undefined;
  try {
    entry = readDeadLetterLine(event);
  } catch (error) {
    if (!(error instanceof InvalidDeadLetterLineError)) {
      throw error;
    }
    result.verdicts.push({ kind: "invalid", mapping: "dead letter", reason: error.message });
    return result;
  }
  if (entry === undefined) {
    // The marker is present but is not 1, the only value formatDeadLetterLine writes and readDeadLetterLine reads.
    // The value goes last, after ", found", so that lines with different markers count under one reason.
    const marker = describeValue(event[DEAD_LETTER_MARKER]);
    result.verdicts.push({ kind: "invalid", mapping: "dead letter", reason: `the line was not written by this version of koala-replay or was edited by hand, because "${DEAD_LETTER_MARKER}" must be 1, found ${marker}` });
    return result;
  }
  entry.origin = result.origin;
  if (entry.person.email) {
    result.entriesWithEmail += 1;
  }
  (hasIdentity(entry.person) ? result.entries : result.unidentified).push(entry);
  return result;
}
