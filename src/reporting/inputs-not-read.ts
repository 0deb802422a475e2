import type { InputNotRead } from "../delivery/index.js";
import { formatCount } from "./count-format.js";

/** Inputs named in the warning; the others are counted. */
const MAX_LISTED_INPUTS = 5;

/**
 * Formats the warning for a resumed run whose checkpoint names inputs that the run does not read.
 * It counts the events of those inputs that earlier runs read and did not deliver or dead-letter.
 * It also names the inputs that a run which stopped before its end read last, because such an
 * input may hold events that were never read. The inputs with the most undelivered events are listed first.
 */
export function formatInputsNotRead(statePath: string, inputs: readonly InputNotRead[]): string {
  const single = inputs.length === 1;
  const ordered = [...inputs].sort((left, right) => right.undeliveredEvents - left.undeliveredEvents || Number(left.readToEnd) - Number(right.readToEnd) || left.path.localeCompare(right.path));
  const listed = ordered.slice(0, MAX_LISTED_INPUTS).map(describeInput).join(", ");
  const more = inputs.length > MAX_LISTED_INPUTS ? ` and ${formatCount(inputs.length - MAX_LISTED_INPUTS)} more` : "";
  const names = `the checkpoint ${statePath} names ${single ? "an input" : `${formatCount(inputs.length)} inputs`} that this run does not read, because ${single ? "it was" : "they were"} removed or not given: ${listed}${more}.`;

  const undelivered = inputs.reduce((total, input) => total + input.undeliveredEvents, 0);
  const unfinished = inputs.filter((input) => !input.readToEnd).length;
  if (undelivered === 0 && unfinished === 0) {
    return `${names} The runs that read ${single ? "it" : "them"} delivered or dead-lettered every event of ${single ? "it" : "them"}, so none is left to send.`;
  }
  const sentences: string[] = [];
  if (undelivered > 0) {
    const events = undelivered === 1 ? "1 event" : `${formatCount(undelivered)} events`;
    sentences.push(`${events} of ${single ? "it" : "them"} that earlier runs read ${undelivered === 1 ? "was" : "were"} neither delivered nor dead-lettered.`);
  }
  if (unfinished > 0) {
    sentences.push(unfinishedSentence(unfinished, inputs.length));
  }
  sentences.push(`This run does not send them. Give ${single ? "it" : "them"} again with --resume to send them.`);
  return `${names} ${sentences.join(" ")}`;
}

/** Names an input, with the count of its undelivered events and whether a stopped run read it last. */
function describeInput(input: InputNotRead): string {
  const notes = [];
  if (input.undeliveredEvents > 0) {
    notes.push(`${formatCount(input.undeliveredEvents)} undelivered`);
  }
  if (!input.readToEnd) {
    notes.push("last read by a stopped run");
  }
  return notes.length === 0 ? input.path : `${input.path} (${notes.join(", ")})`;
}

/** Returns the sentence that `unfinished` of the `total` inputs were last read by a run that stopped before its end. */
function unfinishedSentence(unfinished: number, total: number): string {
  if (total === 1) {
    return "The run that last read it stopped before its end, so it may also hold events that were never read.";
  }
  if (unfinished === total) {
    return "The runs that last read them stopped before their end, so they may also hold events that were never read.";
  }
  return unfinished === 1
    ? "1 of them was last read by a run that stopped before its end, so it may also hold events that were never read."
    : `${formatCount(unfinished)} of them were last read by runs that stopped before their end, so those may also hold events that were never read.`;
}
