import { ExitCode } from "./errors.js";

/** The handler of a closed stdout, set by a command that reports it instead of ending the process. */
let closedStdoutHandler: (() => void) | undefined;

/**
 * Handles the EPIPE error that stdout emits when its reader goes away (`koala-replay inspect | head`).
 * Without a handler set by `onClosedStdout`, the process ends at once with status 141, which a
 * shell reports for a program that SIGPIPE ended, as it does for `send --dry-run | head`. It
 * prints nothing, as such programs do: the reader closed the pipe on purpose, and a note on stderr
 * would land on the terminal under what the reader printed. Other errors are thrown.
 */
export function handleClosedStdout(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      throw error;
    }
    if (closedStdoutHandler === undefined) {
      process.exit(ExitCode.outputClosed);
    }
    closedStdoutHandler();
  });
}

/**
 * Ignores the EPIPE error that stderr emits when its reader goes away (`send … 2>&1 | head`). The
 * warnings and the summary are then lost, but a send goes on to save its checkpoint and sets its
 * exit status, where an unhandled error would end it in the middle of a delivery.
 */
export function ignoreClosedStderr(): void {
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      throw error;
    }
  });
}

/** Makes `handler` handle a closed stdout instead of ending the process, for the rest of the process. */
export function onClosedStdout(handler: () => void): void {
  closedStdoutHandler = handler;
}

/**
 * The stdout of a dry run. It counts the requests (lines) that reached the pipe, and once the reader
 * has closed the pipe it drops further writes and reports them as accepted. A write to a closed
 * stream returns false, so without that the run would wait for a `drain` that never comes.
 */
export class DryRunStdout {
  /** Requests written whole to stdout before the reader closed it. */
  requestsWritten = 0;
  private failed = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** Whether a write failed because the reader closed stdout, so that nothing more reaches it. */
  get closed(): boolean {
    return this.failed || this.stream.destroyed;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.closed) {
      return true;
    }
    const lines = countLines(chunk);
    const accepted = this.stream.write(chunk, (error) => {
      if (error === null || error === undefined) {
        this.requestsWritten += lines;
      } else {
        this.failed = true;
      }
    });
    // A write that failed at once returns false, and the stream will not emit `drain`.
    return accepted || this.closed;
  }

  once(event: "drain", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  /**
   * Waits until every request written so far has left the process. A pipe takes the output of
   * `send --dry-run … 2>&1 | tee log` in parts, so a summary written to stderr before then would
   * land inside a request line.
   */
  async waitForFlush(): Promise<void> {
    if (this.closed || this.stream.writableLength === 0) {
      return;
    }
    // The callback of a write runs after those of every earlier write, with an error once the reader closed the pipe.
    await new Promise<void>((resolve) => {
      this.stream.write("", () => resolve());
    });
  }
}

/** Counts the newlines in `chunk`: each dry-run request ends with one. */
function countLines(chunk: string | Uint8Array): number {
  const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  let count = 0;
  for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) {
    count += 1;
  }
  return count;
}
