/**
 * The note `inspect` and `preview` print, because they map events without identity stitching and
 * so may count as no-identity events that `send` would give an email.
 */
export const NO_STITCHING_NOTE =
  "Counts are before identity stitching. send also gives an event without an email the email that its userId or anonymousId has elsewhere in the inputs or in --identities (unless --no-stitch), so it may send more than shown here.";
