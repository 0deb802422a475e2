export interface StitchingInputs {
  /** Whether any input is standard input (`-`). */
  readsStdin: boolean;
  /** Whether identity stitching is on (it is unless `--no-stitch` is given). */
  stitch: boolean;
  /** Path given with `--identities`, if any. */
  identitiesFile?: string | undefined;
}

/**
 * Returns the usage error for a combination the run cannot carry out, or undefined when it can.
 * Stitching reads every input twice (a first pass builds the identity graph), and standard input
 * cannot be read twice, so reading it with stitching on needs the identities from a file.
 */
export function checkStitchingInputs(inputs: StitchingInputs): string | undefined {
  if (!inputs.readsStdin || !inputs.stitch || inputs.identitiesFile !== undefined) {
    return undefined;
  }
  return (
    "Identity stitching reads the inputs twice, and standard input can be read only once. " +
    "Pass --identities <file> with a CSV or JSONL file of userId/anonymousId and email, " +
    "or pass --no-stitch to send only the events that carry an email or profile_id."
  );
}
