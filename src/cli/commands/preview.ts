import type { KoalaEntry } from "../../delivery/entry.js";
import { locateProblem, type InputProblem } from "../../inputs/record.js";
import { maskPublicKey, maskSecret } from "../../reporting/mask.js";
import { processEvent } from "../../pipeline/processor.js";
import { buildBatchBody } from "../../delivery/index.js";
import { scanEvents } from "../../pipeline/scan-events.js";
import { stitchingNote } from "../../reporting/stitching-note.js";
import { PreviewSamples } from "../../reporting/preview-samples.js";
import { formatWithTextWidth } from "../../reporting/wrap-text.js";
import { formatPreviewText, MIN_SIDE_BY_SIDE_WIDTH, type PreviewLayout, type PreviewRequest } from "../../reporting/preview-text.js";
import { createTextStyle, isColorEnabled } from "../../reporting/style.js";
import { DEFAULT_TEXT_WIDTH, reportedWidth } from "../../reporting/output-width.js";
import { ExitCode, UsageError } from "../errors.js";
import { loadMappingRules } from "../mapping-rules.js";
import { createEmailExclusion } from "../../pipeline/email-exclusion.js";
import { isStdinTerminal, resolveInputs } from "../stdin-input.js";
import {
  parseEndpointOption,
  parseExcludeEmailsOption,
  parseFormat,
  parsePositiveInteger,
  resolveCsvOptions,
  resolveFilters,
  resolveForecastStitching,
  startSendForecast,
  writeInputWarnings,
} from "../send-options.js";
import { parseBrowserEventsOption, warnMissingFilterFields } from "./inspect.js";
import { writeWarning } from "../warning.js";
import { allFieldBits, FilteredOutFields } from "../../reporting/filter-fields.js";
import { listFilterFields } from "../../pipeline/compile-rules.js";
import { describeRoundedMessageId, holdsRoundedNumber, isRoundedLargeNumber } from "../../inputs/message-id.js";

export const DEFAULT_PREVIEW_LIMIT = 3;
export const DEFAULT_MAX_EVENTS = 100_000;

/** Width assumed for side-by-side output when it is forced and the width is unknown (a pipe, no COLUMNS). */
const SIDE_BY_SIDE_FALLBACK_WIDTH = 160;

/** Unreadable lines printed before the rest are only counted, so a broken file cannot flood the terminal. */
const MAX_WARNINGS = 10;

/** Options of `preview` as commander hands them over. */
export interface RawPreviewOptions {
  limit?: string;
  maxEvents?: string;
  browserEvents?: string;
  format?: string;
  csvTable?: string[];
  csvType?: string;
  csvNumbers?: boolean;
  layout?: string;
  publicKey?: string;
  endpoint?: string;
  config?: string;
  filter?: string;
  since?: string;
  until?: string;
  /** False with `--no-stitch`. */
  stitch?: boolean;
  identities?: string;
  excludeEmails?: string;
}

export interface PreviewDependencies {
  /** Builds the request `send` would make for one entry; the batching delivery stage provides its own. */
  requestOf: (entry: KoalaEntry, target: { endpoint: string; publicKey: string | undefined }) => PreviewRequest;
}

const defaultDependencies: PreviewDependencies = { requestOf: singleEntryRequest };

/** Runs `koala-replay preview` and returns the exit status. */
export async function previewCommand(inputs: string[], raw: RawPreviewOptions, dependencies: PreviewDependencies = defaultDependencies): Promise<number> {
  const stdinIsTerminal = isStdinTerminal();
  const inputList = resolveInputs(inputs, stdinIsTerminal, "preview");
  // No cap of its own: the samples are held until printed, and --max-events bounds the events they are taken from.
  const limit = parsePositiveInteger("--limit", raw.limit, DEFAULT_PREVIEW_LIMIT, Number.MAX_SAFE_INTEGER);
  const maxEvents = parsePositiveInteger("--max-events", raw.maxEvents, DEFAULT_MAX_EVENTS, Number.MAX_SAFE_INTEGER);
  const browserEventsText = raw.browserEvents ?? "skip";
  const browserEvents = parseBrowserEventsOption(browserEventsText);
  const filters = resolveFilters(raw);
  const excludedByOption = parseExcludeEmailsOption(raw.excludeEmails);
  const rules = await loadMappingRules(raw.config, browserEvents, filters);
  for (const warning of rules.configWarnings) {
    writeWarning(warning);
  }
  const format = parseFormat(raw.format);
  const layoutOption = parseLayout(raw.layout);
  const target = { endpoint: parseEndpointOption(raw.endpoint), publicKey: raw.publicKey ?? process.env["KOALA_PUBLIC_KEY"] };
  const stitching = resolveForecastStitching(inputList, raw);

  let warnings = 0;
  let unreadable = 0;
  // A rounded messageId is warned about once, as send does.
  let roundedWarned = false;
  const filterFields = listFilterFields(filters);
  const filteredOut = new FilteredOutFields();
  const warnLimited = (message: string): void => {
    warnings += 1;
    if (warnings <= MAX_WARNINGS) {
      writeWarning(message);
    } else if (warnings === MAX_WARNINGS + 1) {
      writeWarning("more unreadable lines follow; they are not printed");
    }
  };
  const samples = new PreviewSamples(
    rules.mappings.map((mapping) => mapping.name),
    limit,
    rules.explain,
    stitching.stitch,
  );
  const csv = resolveCsvOptions(raw);
  writeInputWarnings(inputList, stdinIsTerminal, csv);

  // Stitching reads every input file to its end first, as send does, however early the preview stops.
  const readOptions = { format, csv };
  const exclusion = createEmailExclusion([...rules.excludeEmails, ...excludedByOption]);
  const setup = { readOptions, config: { mappings: rules.mappings, browserEvents, filters } };
  const { forecast, finishStitching } = await startSendForecast(inputList, stitching, raw.identities, setup, exclusion);
  const scan = await scanEvents(inputList, readOptions, {
    onEvent: (event, origin, eventJson) => {
      const messageIdDerived = event["messageId"] === undefined || event["messageId"] === null || event["messageId"] === "";
      const result = processEvent(event, origin, eventJson, rules.processor);
      if (result.skipped === "filtered-out") {
        filteredOut.add(result.filterFieldsPresent ?? 0, allFieldBits(filterFields.length), () => event);
      }
      const sorted = forecast.sort(result);
      samples.add(event, messageIdDerived, result, sorted);
      if (!roundedWarned) {
        const rounded = sorted.duplicates.find((entry) => isRoundedLargeNumber(entry.messageId) && holdsRoundedNumber(event, entry.messageId));
        if (rounded !== undefined) {
          roundedWarned = true;
          writeWarning(describeRoundedMessageId(origin.input, origin.line, rounded.messageId, "send would skip this entry as a duplicate of an earlier one"));
        }
      }
      return !samples.complete && samples.eventsRead < maxEvents;
    },
    onProblem: (problem) => {
      unreadable += 1;
      warnLimited(locateProblem(problem));
    },
    onSkippedFile: (file) => writeWarning(`skipped ${file.path}: ${file.reason}`),
    onWarning: (message) => writeWarning(message),
  });
  const graphStats = finishStitching();
  if (samples.eventsRead > 0 && samples.notSentCounts.get("filtered-out") === samples.eventsRead) {
    warnMissingFilterFields(filterFields, filteredOut);
  }

  const width = reportedWidth(process.stdout, process.env);
  let layout: PreviewLayout = layoutOption === "auto" ? "stacked" : layoutOption;
  if (layoutOption === "auto" && width !== undefined && width >= MIN_SIDE_BY_SIDE_WIDTH) {
    layout = "side-by-side";
  }
  process.stdout.write(
    await formatWithTextWidth(() =>
      formatPreviewText(samples, {
        style: createTextStyle(isColorEnabled(process.stdout, process.env)),
        layout,
        width: width ?? (layout === "side-by-side" ? SIDE_BY_SIDE_FALLBACK_WIDTH : DEFAULT_TEXT_WIDTH),
        textWidth: width ?? DEFAULT_TEXT_WIDTH,
        limit,
        mappings: rules.mappings,
        requestOf: (entry) => dependencies.requestOf(entry, target),
        stoppedEarly: scan.stopped,
        maxEventsReached: scan.stopped && !samples.complete,
        unreadable,
        stitchingNote: stitchingNote({ settings: stitching, coverage: forecast.stitcher.coverage, graph: graphStats }, "Examples and counts"),
      }),
    ),
  );
  return unreadable > 0 ? ExitCode.incomplete : ExitCode.done;
}

function singleEntryRequest(entry: KoalaEntry, target: { endpoint: string; publicKey: string | undefined }): PreviewRequest {
  const key = target.publicKey === undefined || target.publicKey === "" ? "<public-key>" : maskPublicKey(target.publicKey);
  // The base path of --endpoint may contain the key as well.
  const url = maskSecret(`${target.endpoint}/web/projects/${key}/batch`, target.publicKey);
  return { method: "POST", url, body: JSON.parse(buildBatchBody(entry.personKey, [entry]).toString("utf8")) as unknown };
}

function parseLayout(value: string | undefined): PreviewLayout | "auto" {
  if (value === undefined || value === "auto" || value === "stacked" || value === "side-by-side") {
    return value ?? "auto";
  }
  throw new UsageError(`invalid --layout "${value}": expected auto, stacked or side-by-side`);
}
