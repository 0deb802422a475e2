import { runReplay } from "../../pipeline/run-replay.js";
import { presetMappings } from "../../koala/presets.js";
import { maskSecret } from "../../reporting/mask.js";
import { formatSummary } from "../../reporting/summary-text.js";
import { ExitCode } from "../errors.js";
import { resolveSendSettings, type RawSendOptions } from "../send-options.js";
import { packageVersion } from "../version.js";

/** Runs `koala-replay send` and returns the exit status. */
export async function sendCommand(inputs: string[], raw: RawSendOptions): Promise<number> {
  const settings = resolveSendSettings(inputs, raw, process.env);
  const warn = (message: string): void => {
    if (!settings.quiet) {
      process.stderr.write(`warning: ${maskSecret(message, settings.publicKey)}\n`);
    }
  };
  const stats = await runReplay(
    {
      inputs: settings.inputs,
      format: settings.format,
      mappings: presetMappings(),
      browserEvents: settings.browserEvents,
      dryRun: settings.dryRun,
      publicKey: settings.publicKey,
      endpoint: settings.endpoint,
      concurrency: settings.concurrency,
      userAgent: `koala-replay/${packageVersion()}`,
    },
    { stdout: process.stdout, warn },
  );
  if (!settings.quiet) {
    const summary = formatSummary(stats, { dryRun: settings.dryRun, browserEventsPolicy: settings.browserEventsText });
    process.stderr.write(maskSecret(summary, settings.publicKey));
  }
  const incomplete = stats.invalidCount > 0 || stats.failedCount > 0 || stats.unreadableCount > 0;
  return incomplete ? ExitCode.incomplete : ExitCode.done;
}
