import { hideEmails } from "./email-mask.js";
import type { RunReport } from "./run-report.js";

/**
 * Returns the run report with every email hidden, as in -v lines, where the report quotes event
 * data or Koala's responses. These are the values that invalid reasons found, the excerpts of
 * responses in failure reasons and in the fatal message, and the messages of unreadable lines, which
 * can quote the line. Option values such as the `excludeEmails` patterns are the user's own and stay
 * as given.
 */
export function hideEmailsInReport(report: RunReport): RunReport {
  const delivery = report.delivery;
  return {
    ...report,
    invalidByReason: hideEmailsInKeys(report.invalidByReason),
    failedByReason: hideEmailsInKeys(report.failedByReason),
    unreadableExamples: report.unreadableExamples.map((example) => ({ ...example, message: hideEmails(example.message) })),
    invalidExamples: report.invalidExamples.map((example) => ({ ...example, reason: hideEmails(example.reason) })),
    failedExamples: report.failedExamples.map((example) => ({ ...example, reason: hideEmails(example.reason) })),
    delivery:
      delivery === null
        ? null
        : {
            ...delivery,
            retries: hideEmailsInKeys(delivery.retries),
            deadLettered: hideEmailsInKeys(delivery.deadLettered),
            fatal: delivery.fatal === null ? null : { ...delivery.fatal, message: hideEmails(delivery.fatal.message) },
          },
  };
}

/** Returns the counts with every email in their keys hidden. Two keys that become one are added together. */
function hideEmailsInKeys(counts: Readonly<Record<string, number>>): Record<string, number> {
  // A null prototype keeps a key named "__proto__" an ordinary key, as the report builds its maps.
  const result = Object.create(null) as Record<string, number>;
  for (const [key, count] of Object.entries(counts)) {
    const hidden = hideEmails(key);
    result[hidden] = (result[hidden] ?? 0) + count;
  }
  return result;
}
