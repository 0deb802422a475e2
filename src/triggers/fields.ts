/** Fields of Segment's trigger subset. Only `properties`, `traits` and `context` take sub-paths. */
export const subscriptionRoots: ReadonlySet<string> = new Set(["type", "event", "name", "userId", "properties", "traits", "context"]);
/** Top-level fields that the Segment spec defines as strings, so they have no sub-fields. */
export const stringFields: ReadonlySet<string> = new Set(["type", "event", "name", "userId"]);
/** Top-level fields that the Segment spec defines as objects. */
export const objectFields: ReadonlySet<string> = new Set(["properties", "traits", "context"]);
/** Top-level fields of the Segment spec, used to warn about a field that differs only in case. */
export const specFields: readonly string[] = [
  "anonymousId", "userId", "groupId", "previousId", "messageId", "type", "event", "name", "category",
  "properties", "traits", "context", "integrations", "timestamp", "receivedAt", "sentAt", "originalTimestamp", "channel", "version",
];
