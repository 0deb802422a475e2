import { nameReadOnceInputs, type ReadOnceInput } from "../inputs/read-once.js";

export interface StitchingInputs {
  /** Whether any input is standard input (`-`). */
  readsStdin: boolean;
  /** Inputs other than stdin that can be read only once: named pipes, pipes from `<(…)`, character devices. */
  readOnceFiles?: readonly ReadOnceInput[];
  /** Whether identity stitching is on (it is unless `--no-stitch` is given). */
  stitch: boolean;
  /** Path given with `--identities`, if any. */
  identitiesFile?: string | undefined;
}

/**
 * Returns the usage error for a combination the run cannot carry out, or undefined when it can.
 * Stitching reads every input twice (a first pass builds the identity graph), and standard input
 * or a pipe cannot be read twice, so reading one with stitching on needs the identities from a file.
 */
export function checkStitchingInputs(inputs: StitchingInputs): string | undefined {
  const files = inputs.readOnceFiles ?? [];
  if ((!inputs.readsStdin && files.length === 0) || !inputs.stitch || inputs.identitiesFile !== undefined) {
    return undefined;
  }
  const options =
    "pass --identities <file> with a CSV or JSONL file of userId/anonymousId and email, " +
    "or pass --no-stitch to send only the events that carry an email or profile_id";
  if (files.length === 0) {
    // `zcat archive.gz | koala-replay send -` is the usual way in, and the file itself can be read twice.
    return (
      "Identity stitching reads the inputs twice, and standard input can be read only once. " +
      `Give the events as a file argument instead of piping them in, as in "send events.jsonl" (gzip files are read as they are), so that they can be read twice. Or ${options}.`
    );
  }
  const first = files[0] as ReadOnceInput;
  const subject =
    files.length === 1 && !inputs.readsStdin
      ? `${first.input} is ${first.kind}, which`
      : nameReadOnceInputs([...(inputs.readsStdin ? [{ input: "-", kind: "standard input" }] : []), ...files]);
  return `Identity stitching reads the inputs twice, and ${subject} can be read only once. Either ${options}, or save the events to a regular file and give that file instead.`;
}
