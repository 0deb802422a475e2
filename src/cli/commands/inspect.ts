import { parseBrowserEventsPolicy } from "../../pipeline/browser-events.js";
import { processEvent } from "../../pipeline/processor.js";
import { scanEvents } from "../../pipeline/scan-events.js";
import { ArchiveInventory } from "../../reporting/archive-inventory.js";
import { buildInspectReport } from "../../reporting/inspect-report.js";
import { formatInspectText } from "../../reporting/inspect-text.js";
import { batchedRequests, type RequestEstimator } from "../../reporting/request-estimator.js";
import { createTextStyle, isColorEnabled } from "../../reporting/style.js";
import { textWidth } from "../../reporting/output-width.js";
import { formatWithTextWidth } from "../../reporting/wrap-text.js";
import { ExitCode, UsageError } from "../errors.js";
import { loadMappingRules } from "../mapping-rules.js";
import { createEmailExclusion, listEmailPatterns } from "../../pipeline/email-exclusion.js";
import { writeWarning } from "../warning.js";
import { allFieldBits, describeMissingFilterFields, FilteredOutFields } from "../../reporting/filter-fields.js";
import { listFilterFields } from "../../pipeline/compile-rules.js";
import { describeRoundedMessageId } from "../../inputs/message-id.js";
import { isStdinTerminal, resolveInputs } from "../stdin-input.js";
import {
  parseExcludeEmailsOption,
  parseFormat,
  parsePositiveInteger,
  resolveCsvOptions,
  resolveFilters,
  resolveForecastStitching,
  startSendForecast,
  writeInputWarnings,
} from "../send-options.js";
import { packageVersion } from "../version.js";

export const DEFAULT_TOP_COUNT = 10;

/** Options of `inspect` as commander hands them over. */
export interface RawInspectOptions {
  json?: boolean;
  top?: string;
  browserEvents?: string;
  format?: string;
  csvTable?: string[];
  csvType?: string;
  csvNumbers?: boolean;
  config?: string;
  filter?: string;
  since?: string;
  until?: string;
  /** False with `--no-stitch`. */
  stitch?: boolean;
  identities?: string;
  excludeEmails?: string;
}

export interface InspectDependencies {
  /** Counts the requests a send would make; the batching delivery stage provides a closer one. */
  createEstimator: () => RequestEstimator;
}

const defaultDependencies: InspectDependencies = { createEstimator: batchedRequests };

/** Runs `koala-replay inspect` and returns the exit status. */
export async function inspectCommand(inputs: string[], raw: RawInspectOptions, dependencies: InspectDependencies = defaultDependencies): Promise<number> {
  const browserEventsText = raw.browserEvents ?? "skip";
  const browserEvents = parseBrowserEventsOption(browserEventsText);
  const topCount = parsePositiveInteger("--top", raw.top, DEFAULT_TOP_COUNT, 1000);
  const format = parseFormat(raw.format);
  const stdinIsTerminal = isStdinTerminal();
  const inputList = resolveInputs(inputs, stdinIsTerminal, "inspect");
  const filters = resolveFilters(raw);
  const excludedByOption = parseExcludeEmailsOption(raw.excludeEmails);
  const rules = await loadMappingRules(raw.config, browserEvents, filters);
  for (const warning of rules.configWarnings) {
    writeWarning(warning);
  }
  const stitching = resolveForecastStitching(inputList, raw);
  const csv = resolveCsvOptions(raw);
  writeInputWarnings(inputList, stdinIsTerminal, csv);

  const readOptions = { format, csv };
  const excludeEmails = listEmailPatterns(rules.excludeEmails, excludedByOption);
  const exclusion = createEmailExclusion(excludeEmails.map(({ pattern }) => pattern));
  const setup = { readOptions, config: { mappings: rules.mappings, browserEvents, filters } };
  const { forecast, finishStitching } = await startSendForecast(inputList, stitching, raw.identities, setup, exclusion);
  const filterOptions = givenFilterOptions(raw);
  const inventory = new ArchiveInventory(rules.mappings, dependencies.createEstimator(), undefined, filterOptions.length > 0);
  const filterFields = listFilterFields(filters);
  const filteredOut = new FilteredOutFields();
  const scan = await scanEvents(inputList, readOptions, {
    onEvent: (event, origin, eventJson) => {
      const result = processEvent(event, origin, eventJson, rules.processor);
      inventory.add(event, result, forecast.sort(result));
      if (result.skipped === "filtered-out") {
        filteredOut.add(result.filterFieldsPresent ?? 0, allFieldBits(filterFields.length), () => event);
      }
      return true;
    },
    onProblem: (problem) => inventory.countUnreadable(problem),
    onSkippedFile: (file) => inventory.filesSkipped.push(file),
    onWarning: (message) => writeWarning(message),
  });
  inventory.filesRead = scan.filesRead;
  inventory.finish();
  if (inventory.eventsRead > 0 && inventory.filteredOut === inventory.eventsRead) {
    warnMissingFilterFields(filterFields, filteredOut);
  }
  const rounded = inventory.duplicates.rounded;
  if (rounded.firstAt !== undefined && rounded.messageId !== undefined) {
    writeWarning(describeRoundedMessageId(rounded.firstAt.input, rounded.firstAt.line, rounded.messageId, ROUNDED_DUPLICATE_EVENT));
  }
  await inventory.estimator.finish();
  const graphStats = finishStitching();

  const report = buildInspectReport(inventory, {
    version: packageVersion(),
    workingDirectory: process.cwd(),
    inputs: inputList,
    browserEvents: browserEventsText,
    mappingSource: rules.source,
    topCount,
    excludeEmails,
    filterOptions,
    stitching: { settings: stitching, coverage: forecast.stitcher.coverage, graph: graphStats },
  });
  if (raw.json === true) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const style = createTextStyle(isColorEnabled(process.stdout, process.env));
    process.stdout.write(await formatWithTextWidth(() => formatInspectText(report, style, textWidth(process.stdout))));
  }
  return report.unreadable > 0 ? ExitCode.incomplete : ExitCode.done;
}

/**
 * Warns, once the filters excluded every event read, about the fields they test that no event had,
 * with the fields that a misspelt name may have meant. Nothing is printed when every field was seen.
 */
export function warnMissingFilterFields(fields: readonly { label: string; name: string }[], filteredOut: FilteredOutFields): void {
  const text = describeMissingFilterFields(fields, filteredOut.seenBits, filteredOut.paths);
  if (text !== "") {
    writeWarning(`every event read was excluded by --filter, --since or --until. ${text}`);
  }
}

/** Returns the names of the options among `--filter`, `--since` and `--until` that were given. */
function givenFilterOptions(raw: RawInspectOptions): string[] {
  const options: Array<[string, string | undefined]> = [
    ["--filter", raw.filter],
    ["--since", raw.since],
    ["--until", raw.until],
  ];
  return options.filter(([, value]) => value !== undefined).map(([option]) => option);
}

/** The outcome, in the words of inspect's warning, of an event whose rounded numeric messageId repeats an earlier one. */
const ROUNDED_DUPLICATE_EVENT = "send would skip the entries of this event as duplicates of an earlier one";

export function parseBrowserEventsOption(text: string): ReturnType<typeof parseBrowserEventsPolicy> {
  try {
    return parseBrowserEventsPolicy(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
