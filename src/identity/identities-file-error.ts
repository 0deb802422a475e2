/**
 * An `--identities` file that cannot be used at all: missing, a directory, unreadable, or a CSV
 * header without the columns it needs. The CLI prints it as one error line and its hint, with the
 * usage exit status, because the user can fix it and nothing has been sent yet.
 */
export class IdentitiesFileError extends Error {
  /** The path as given, or the stream's name. */
  readonly path: string;
  /** The next step for the user, printed under the message. */
  readonly hint: string;

  constructor(message: string, path: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IdentitiesFileError";
    this.path = path;
    this.hint = hint;
  }
}

/** Describes the columns an identities CSV needs, for hints. */
export const IDENTITIES_COLUMNS_HINT =
  "an identities CSV needs an email column and a user_id, id or anonymous_id column (any case, with or without _); a warehouse users export has them";
