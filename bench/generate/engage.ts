import type { SegmentEvent } from "../../src/inputs/record.js";
import type { SeededRandom } from "./random.js";
import type { SyntheticUser } from "./users.js";

const audiences = ["high_intent_accounts", "order_completed_last_30days", "trial_power_users", "churn_risk"] as const;

/**
 * Builds the identify call Engage sends when a user enters or leaves an audience: the audience's
 * key as a boolean trait, `context.personas`, a `personas_` messageId, a null `sentAt` and an
 * `originalTimestamp` with nanoseconds.
 */
export function buildEngageIdentify(random: SeededRandom, user: SyntheticUser, receivedAt: number): SegmentEvent {
  const audience = random.pick(audiences);
  const happenedAt = receivedAt - random.integer(1_000, 20_000);
  const nanoseconds = String(random.integer(0, 999_999)).padStart(6, "0");
  const isoTime = new Date(happenedAt).toISOString();
  return {
    context: {
      integrations: { personas: false },
      library: { name: "unknown", version: "unknown" },
      personas: {
        computation_class: "audience",
        computation_id: `aud_${random.hex(27)}`,
        computation_key: audience,
        namespace: "spa_example",
        space_id: "spa_example",
      },
    },
    integrations: { All: false, Koala: true, Warehouses: { all: false } },
    messageId: `personas_${random.hex(27)}`,
    originalTimestamp: `${isoTime.slice(0, -1)}${nanoseconds}Z`,
    receivedAt: new Date(receivedAt).toISOString(),
    sentAt: null,
    timestamp: isoTime,
    traits: { [audience]: random.chance(0.8), email: user.email },
    type: "identify",
    userId: user.userId,
  };
}
