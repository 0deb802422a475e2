import type { EntryKind, KoalaEntry, PersonFields } from "../delivery/entry.js";
import type { InputProblem, RecordOrigin, UnreadableReason } from "../inputs/record.js";
import type { LineOutcome } from "./process-lines.js";
import type { MappingVerdict, SkipReason } from "./outcomes.js";
import type { RecordResult } from "./processor.js";

// A worker thread returns the outcomes of a chunk as an array of strings and one Int32Array instead
// of a graph of objects. Strings and a transferable buffer are cloned at the speed of a memory copy,
// while a structured clone of a million small objects would cost more than parsing them did.

const RECORD = 1;
const PROBLEM = 2;

const SKIP_REASONS: readonly SkipReason[] = ["filtered-out", "no-mapping-matched", "browser-event", "no-identity", "duplicate-message-id", "already-delivered"];
const UNREADABLE_REASONS: readonly UnreadableReason[] = ["malformed-json", "not-an-object", "truncated-gzip", "unreadable-file", "not-an-archive", "malformed-csv-row"];
const ENTRY_KINDS: readonly EntryKind[] = ["events", "identifies"];

export interface EncodedChunk {
  /** The strings of the chunk; the integers refer to them by index. */
  strings: string[];
  ints: Int32Array;
}

class Encoder {
  private readonly strings: string[] = [];
  readonly ints: number[] = [];

  string(value: string | undefined): void {
    if (value === undefined) {
      this.ints.push(-1);
      return;
    }
    this.ints.push(this.strings.length);
    this.strings.push(value);
  }

  finish(): EncodedChunk {
    return { strings: this.strings, ints: Int32Array.from(this.ints) };
  }
}

/** Encodes a chunk's outcomes; `mappingNames` gives each mapping its index. */
export function encodeOutcomes(outcomes: readonly LineOutcome[], mappingNames: readonly string[]): EncodedChunk {
  const encoder = new Encoder();
  const mappingIndex = new Map(mappingNames.map((name, index) => [name, index]));
  const indexOf = (name: string): number => mappingIndex.get(name) ?? -1;
  for (const outcome of outcomes) {
    if (outcome.kind === "problem") {
      encoder.ints.push(PROBLEM, outcome.problem.origin.line, UNREADABLE_REASONS.indexOf(outcome.problem.reason));
      encoder.string(outcome.problem.message);
      continue;
    }
    const result = outcome.result;
    encoder.ints.push(RECORD, result.origin.line, outcome.lineStart, outcome.lineEnd);
    encoder.ints.push(result.skipped === undefined ? -1 : SKIP_REASONS.indexOf(result.skipped));
    encoder.string(result.unmatchedType);
    encoder.string(result.identity.userId);
    encoder.string(result.identity.anonymousId);
    encoder.ints.push(result.matched.length, ...result.matched.map(indexOf));
    encoder.ints.push(result.verdicts.length);
    for (const verdict of result.verdicts) {
      encoder.ints.push(verdict.kind === "skipped" ? 0 : 1, indexOf(verdict.mapping));
      encoder.string(verdict.kind === "skipped" ? verdict.reason : verdict.reason);
    }
    encoder.ints.push(result.entriesWithEmail);
    for (const entries of [result.entries, result.unidentified]) {
      encoder.ints.push(entries.length);
      for (const entry of entries) {
        encoder.ints.push(ENTRY_KINDS.indexOf(entry.kind), indexOf(entry.mappingName));
        encoder.string(entry.personKey);
        const personId = entry.personId ?? entry.person.profile_id ?? entry.person.email;
        encoder.string(personId === undefined ? undefined : String(personId));
        encoder.string(entry.entryJson);
        encoder.string(entry.messageId);
      }
    }
  }
  return encoder.finish();
}

/**
 * An entry decoded on the main thread. Its person fields and its event's text are produced only
 * when asked for, because most entries are delivered without anyone reading them.
 */
class DecodedEntry implements KoalaEntry {
  private personFields: PersonFields | undefined;
  private eventText: string | undefined;
  personId: string | undefined;

  constructor(
    readonly kind: EntryKind,
    public personKey: string,
    readonly entryJson: string,
    readonly messageId: string,
    readonly mappingName: string,
    readonly origin: RecordOrigin,
    private readonly chunk: Buffer,
    private readonly lineStart: number,
    private readonly lineEnd: number,
  ) {}

  get person(): PersonFields {
    this.personFields ??= JSON.parse(this.personKey) as PersonFields;
    return this.personFields;
  }

  set person(value: PersonFields) {
    this.personFields = value;
  }

  get eventJson(): string {
    this.eventText ??= this.chunk.toString("utf8", this.lineStart, this.lineEnd);
    return this.eventText;
  }
}

/** Decodes what `encodeOutcomes` produced, for the chunk `bytes` of `input`. */
export function decodeOutcomes(encoded: EncodedChunk, input: string, bytes: Buffer, mappingNames: readonly string[]): LineOutcome[] {
  const { strings, ints } = encoded;
  let cursor = 0;
  const nextInt = (): number => ints[cursor++] as number;
  const nextString = (): string | undefined => {
    const index = nextInt();
    return index === -1 ? undefined : strings[index];
  };
  const mappingName = (index: number): string => mappingNames[index] ?? "(unknown mapping)";

  const outcomes: LineOutcome[] = [];
  while (cursor < ints.length) {
    const tag = nextInt();
    const line = nextInt();
    const origin = { input, line };
    if (tag === PROBLEM) {
      const reason = UNREADABLE_REASONS[nextInt()] ?? "unreadable-file";
      const problem: InputProblem = { origin, reason, message: nextString() ?? "" };
      outcomes.push({ kind: "problem", problem });
      continue;
    }
    const lineStart = nextInt();
    const lineEnd = nextInt();
    const skippedIndex = nextInt();
    const result: RecordResult = { origin, entries: [], unidentified: [], entriesWithEmail: 0, matched: [], verdicts: [], identity: {} };
    if (skippedIndex !== -1) {
      result.skipped = SKIP_REASONS[skippedIndex];
    }
    const unmatchedType = nextString();
    if (unmatchedType !== undefined) {
      result.unmatchedType = unmatchedType;
    }
    const userId = nextString();
    const anonymousId = nextString();
    if (userId !== undefined) {
      result.identity.userId = userId;
    }
    if (anonymousId !== undefined) {
      result.identity.anonymousId = anonymousId;
    }
    for (let count = nextInt(); count > 0; count -= 1) {
      result.matched.push(mappingName(nextInt()));
    }
    for (let count = nextInt(); count > 0; count -= 1) {
      const kind = nextInt();
      const mapping = mappingName(nextInt());
      const reason = nextString() ?? "";
      const verdict: MappingVerdict = kind === 0 ? { kind: "skipped", mapping, reason: reason as SkipReason } : { kind: "invalid", mapping, reason };
      result.verdicts.push(verdict);
    }
    result.entriesWithEmail = nextInt();
    for (const entries of [result.entries, result.unidentified]) {
      for (let count = nextInt(); count > 0; count -= 1) {
        const kind = ENTRY_KINDS[nextInt()] ?? "events";
        const mapping = mappingName(nextInt());
        const personKey = nextString() ?? "{}";
        const personId = nextString();
        const entryJson = nextString() ?? "{}";
        const messageId = nextString() ?? "";
        const entry = new DecodedEntry(kind, personKey, entryJson, messageId, mapping, origin, bytes, lineStart, lineEnd);
        if (personId !== undefined) {
          entry.personId = personId;
        }
        entries.push(entry);
      }
    }
    outcomes.push({ kind: "result", result, lineStart, lineEnd });
  }
  return outcomes;
}
