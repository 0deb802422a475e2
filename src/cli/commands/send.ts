import { runReplay } from "../../pipeline/run-replay.js";
import { loadConfig } from "../../mappings/index.js";
import { maskSecret } from "../../reporting/mask.js";
import { formatSummary } from "../../reporting/summary-text.js";
import { ExitCode } from "../errors.js";
import { resolveSendSettings, type RawSendOptions } from "../send-options.js";
import { packageVersion } from "../version.js";

/** Runs `koala-replay send` and returns the exit status. */
export async function sendCommand(inputs: string[], raw: RawSendOptions): Promise<number> {
  const settings = resolveSendSettings(inputs, raw, process.env);
  const config = await loadConfig(settings.configPath);
  const warn = (message: string): void => {
    if (!settings.quiet) {
      process.stderr.write(`warning: ${maskSecret(message, settings.publicKey)}\n`);
    }
  };
  const interruption = handleInterruptions();
  const stats = await runReplay(
    {
      inputs: settings.inputs,
      format: settings.format,
      csv: settings.csv,
      mappings: config.mappings,
      browserEvents: settings.browserEvents,
      filters: settings.filters,
      dryRun: settings.dryRun,
      publicKey: settings.publicKey,
      endpoint: settings.endpoint,
      concurrency: settings.concurrency,
      userAgent: `koala-replay/${packageVersion()}`,
    },
    { stdout: process.stdout, warn, signal: interruption.signal },
  );
  interruption.dispose();
  if (!settings.quiet) {
    const summary = formatSummary(stats, { dryRun: settings.dryRun, browserEventsPolicy: settings.browserEventsText });
    process.stderr.write(maskSecret(summary, settings.publicKey));
  }
  if (interruption.signal.aborted) {
    process.stderr.write("interrupted: stopped reading; entries read so far were delivered\n");
    return ExitCode.interrupted;
  }
  const incomplete = stats.invalidCount > 0 || stats.failedCount > 0 || stats.unreadableCount > 0;
  return incomplete ? ExitCode.incomplete : ExitCode.done;
}

/**
 * Turns the first Ctrl-C or SIGTERM into an abort signal, so that the run stops reading and
 * finishes what is in flight; a second one exits at once.
 */
function handleInterruptions(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      process.stderr.write("interrupted again: exiting now\n");
      process.exit(ExitCode.interrupted);
    }
    process.stderr.write("\ninterrupting: finishing the requests in flight (Ctrl-C again to exit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
