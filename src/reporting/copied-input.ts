/**
 * Asks whether an input whose every event (or, for `send`, every entry) repeats one read before is a
 * copy of another input, which `inspect` and `send` both point out.
 */
export function askIfCopiedInput(input: string, record: "event" | "entry"): string {
  return `every ${record} of ${input} repeats an earlier one: is it a copy of another input, such as an S3 object and its decompressed copy?`;
}

/**
 * Describes an input whose content is the same as that of an input read before it, which `send`
 * finds before it reads any event, whatever then happens to the events.
 */
export function describeCopiedInput(copy: string, original: string, decompressed: boolean): string {
  const content = decompressed ? "the same content, once decompressed, as" : "the same content as";
  return (
    `${copy} has ${content} ${original}, which is read before it: is it a copy, such as an S3 object and its decompressed copy? ` +
    "Each of its events is read and counted a second time, and the entries made from them are skipped as duplicates. Leave the copy out of the inputs."
  );
}
