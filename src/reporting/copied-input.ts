/**
 * Asks whether an input whose every event (or, for `send`, every entry) repeats one read before is a
 * copy of another input, which `inspect` and `send` both point out.
 */
export function askIfCopiedInput(input: string, record: "event" | "entry"): string {
  return `every ${record} of ${input} repeats an earlier one: is it a copy of another input, such as an S3 object and its decompressed copy?`;
}
