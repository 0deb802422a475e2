/**
 * Finds the inputs every record of which repeats one read before, in the order they are read. Such
 * an input is often a copy of another, such as an S3 object and its decompressed copy in one folder.
 * Records must come input by input, as both `inspect` and `send` read them. An input counts once it
 * has a record, so an input of blank lines or of records without entries is never listed.
 */
export class DuplicateOnlyInputs {
  /** Inputs found so far, in the order read. */
  readonly inputs: string[] = [];
  private current: { input: string; onlyRepeats: boolean } | undefined;

  constructor(private readonly onFound: (input: string) => void = () => {}) {}

  /** Notes one record of `input`, and whether it repeats one read before. */
  note(input: string, repeated: boolean): void {
    if (this.current?.input !== input) {
      this.closeInput();
      this.current = { input, onlyRepeats: true };
    }
    if (!repeated) {
      this.current.onlyRepeats = false;
    }
  }

  /** Closes the last input, once it is read to its end. */
  finish(): void {
    this.closeInput();
  }

  /** Forgets the last input without listing it, because a run that stopped did not read all of it. */
  abandon(): void {
    this.current = undefined;
  }

  private closeInput(): void {
    if (this.current?.onlyRepeats === true) {
      this.inputs.push(this.current.input);
      this.onFound(this.current.input);
    }
    this.current = undefined;
  }
}
