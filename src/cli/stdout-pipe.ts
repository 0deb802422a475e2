import { fstatSync, writeSync } from "node:fs";
import { ExitCode } from "./errors.js";

/** The handler of a closed stdout, set by a command that reports it instead of ending the process. */
let closedStdoutHandler: (() => void) | undefined;

/** The first error, other than a closed pipe, of a write to stdout: a full disk, a file-size limit. */
let stdoutWriteError: NodeJS.ErrnoException | undefined;

/** Meaning and fix of each error code of a failed write to stdout. */
const WRITE_ERROR_TEXTS: Readonly<Record<string, { meaning: string; fix: string }>> = {
  ENOSPC: { meaning: "no space left on device", fix: "free space on that disk or write the output elsewhere" },
  EDQUOT: { meaning: "disk quota exceeded", fix: "free space within the quota or write the output elsewhere" },
  EFBIG: { meaning: "file too large: the file-size limit (ulimit -f) was reached", fix: "raise the limit or write the output elsewhere" },
  EIO: { meaning: "input/output error", fix: "check the device, or write the output elsewhere" },
};

/**
 * Handles the errors that stdout emits. EPIPE comes when its reader goes away (`koala-replay inspect
 * | head`). Without a handler set by `onClosedStdout`, the process ends at once with status 141, which a
 * shell reports for a program that SIGPIPE ended, as it does for `send --dry-run | head`. It
 * prints nothing, as such programs do: the reader closed the pipe on purpose, and a note on stderr
 * would land on the terminal under what the reader printed.
 *
 * Any other error, such as ENOSPC on a full disk or EFBIG past `ulimit -f`, gets one message on
 * stderr. Without a handler the process then ends with status 74 (`ExitCode.ioError`). With
 * one, the command stops or goes on as it does for a closed pipe, and `main` sets status 74 at
 * its end (see `stdoutWriteFailed`), so that a real send still saves its checkpoint.
 */
export function handleClosedStdout(): void {
  writeFileChunksWhole(process.stdout);
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      reportStdoutWriteError(error);
      if (closedStdoutHandler === undefined) {
        process.exit(ExitCode.ioError);
      }
      closedStdoutHandler();
      return;
    }
    if (closedStdoutHandler === undefined) {
      process.exit(ExitCode.outputClosed);
    }
    closedStdoutHandler();
  });
}

/**
 * Makes a stdout that is a regular file write each chunk whole or fail. Node 20 writes a file's
 * chunk with one `writeSync` and ignores a short count. A file-size limit or a filling disk returns
 * such a count before the next write fails with EFBIG or ENOSPC, so an output that fits in one
 * write would end cut short, without an error.
 */
function writeFileChunksWhole(stream: NodeJS.WriteStream): void {
  let isFile: boolean;
  try {
    isFile = fstatSync(1).isFile();
  } catch {
    return;
  }
  if (!isFile) {
    return;
  }
  stream._write = (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void => {
    let written = 0;
    try {
      while (written < chunk.length) {
        written += writeSync(1, chunk, written, chunk.length - written);
      }
    } catch (error) {
      // The bytes before the failure are in the file. They are counted now, because the writer may
      // reuse the chunk's buffer before the callback runs.
      const part = chunk.subarray(0, written);
      callback(Object.assign(error as Error, { partWritten: { lines: countLines(part), endsInsideLine: written > 0 && part[written - 1] !== 0x0a } }));
      return;
    }
    callback();
  };
}

/** Prints the first write error of stdout to stderr, once: later writes fail the same way. */
function reportStdoutWriteError(error: NodeJS.ErrnoException): void {
  if (stdoutWriteError !== undefined) {
    return;
  }
  stdoutWriteError = error;
  process.stderr.write(`${describeStdoutWriteError(error)}\n`);
}

/** Formats the message of a failed write to stdout, as `error: <what>` and the fix on the next line. */
export function describeStdoutWriteError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? "unknown error";
  const text = WRITE_ERROR_TEXTS[code];
  const cause = text === undefined ? `${code} (${error.message})` : `${code} (${text.meaning})`;
  const fix = text?.fix ?? "write the output elsewhere";
  return `error: cannot write the output to stdout: ${cause}, so it is cut short\n  ${fix}`;
}

/** Returns the code (ENOSPC, EFBIG …) of the first failed write to stdout other than a closed pipe, or undefined (see `handleClosedStdout`). */
export function stdoutWriteErrorCode(): string | undefined {
  return stdoutWriteError === undefined ? undefined : (stdoutWriteError.code ?? "unknown error");
}

/**
 * Ignores the errors that stderr emits when its reader goes away (`send … 2>&1 | head`, EPIPE) or
 * its file cannot grow (`2> /dev/full`, ENOSPC, EFBIG). The warnings and the summary are then
 * lost, because there is nowhere left to report them. A send goes on to save its checkpoint and
 * sets its exit status, where an unhandled error would end it in the middle of a delivery.
 */
export function ignoreClosedStderr(): void {
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === undefined) {
      throw error;
    }
  });
}

/** Makes `handler` handle a closed stdout instead of ending the process, for the rest of the process. */
export function onClosedStdout(handler: () => void): void {
  closedStdoutHandler = handler;
}

/** Whether stdout and stderr are one file, pipe or terminal (`2>&1`), found on first use. */
let stderrIsStdout: boolean | undefined;

/**
 * Checks whether stdout and stderr are the same file, pipe or terminal, as after `2>&1`, by
 * comparing the device and inode of file descriptors 1 and 2. A closed descriptor counts as
 * not shared.
 */
export function isStderrSameAsStdout(): boolean {
  if (stderrIsStdout === undefined) {
    try {
      const stdout = fstatSync(1);
      const stderr = fstatSync(2);
      stderrIsStdout = stdout.dev === stderr.dev && stdout.ino === stderr.ino;
    } catch {
      stderrIsStdout = false;
    }
  }
  return stderrIsStdout;
}

/**
 * Writes text meant for stderr. When stderr is the same pipe or file as stdout, the text goes
 * through stdout's stream, behind the bytes that stdout still queues for a slow pipe. Written to
 * stderr directly, it would reach the pipe before them and land inside a line of stdout. Once
 * stdout is closed, the text goes to stderr, whose closed pipe is ignored (see `ignoreClosedStderr`).
 */
export function writeStderr(text: string): void {
  if (isStderrSameAsStdout() && !process.stdout.destroyed) {
    process.stdout.write(text);
  } else {
    process.stderr.write(text);
  }
}

/**
 * The stdout of a dry run. It counts the requests (lines) that reached the pipe, and once the reader
 * has closed the pipe it drops further writes and reports them as accepted. A write to a closed
 * stream returns false, so without that the run would wait for a `drain` that never comes.
 *
 * The requests come in pieces, and a block of them can end inside a line. When stderr is the same
 * pipe or file (`holdPartialLines`), the bytes after the last newline of a block wait here for the
 * rest of their line. The stream then always ends between two lines, where `writeStderr` adds its text.
 */
export class DryRunStdout {
  /** Requests written whole to stdout before the reader closed it or a write failed. */
  requestsWritten = 0;
  /** Whether a write to a file failed after part of a request, so that the file ends inside a line. */
  endsInsideRequest = false;
  private failed = false;
  /** The start of a line held back by `holdPartialLines`, copied, because the writer reuses its buffers. */
  private partialLine: Buffer[] = [];

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly holdPartialLines = false,
  ) {}

  /** Whether a write failed because the reader closed stdout, so that nothing more reaches it. */
  get closed(): boolean {
    return this.failed || this.stream.destroyed;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.closed) {
      return true;
    }
    if (!this.holdPartialLines) {
      return this.writeToStream(chunk);
    }
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const wholeLinesEnd = bytes.lastIndexOf(0x0a) + 1;
    if (wholeLinesEnd === 0) {
      this.partialLine.push(typeof chunk === "string" ? (bytes as Buffer) : Buffer.from(bytes));
      // Nothing was written, so the writer waits only for a `drain` that the stream owes it already.
      return !this.stream.writableNeedDrain;
    }
    const wholeLines = bytes.subarray(0, wholeLinesEnd);
    const accepted = this.writeToStream(this.partialLine.length === 0 ? wholeLines : Buffer.concat([...this.partialLine, wholeLines]));
    this.partialLine = wholeLinesEnd === bytes.length ? [] : [Buffer.from(bytes.subarray(wholeLinesEnd))];
    return accepted;
  }

  private writeToStream(chunk: string | Uint8Array): boolean {
    const lines = countLines(chunk);
    const accepted = this.stream.write(chunk, (error) => {
      if (error === null || error === undefined) {
        this.requestsWritten += lines;
      } else {
        this.countPartlyWritten(error);
        this.failed = true;
      }
    });
    // A write that failed at once returns false, and the stream will not emit `drain`.
    return accepted || this.closed;
  }

  /**
   * Counts the requests that a failed write to a file ended before it failed (see
   * `writeFileChunksWhole`). Only the first failure wrote anything: the writes after it fail at once.
   */
  private countPartlyWritten(error: Error & { partWritten?: { lines: number; endsInsideLine: boolean } }): void {
    if (this.failed || error.partWritten === undefined) {
      return;
    }
    this.requestsWritten += error.partWritten.lines;
    this.endsInsideRequest = error.partWritten.endsInsideLine;
  }

  once(event: "drain", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  /**
   * Waits until every request written so far has left the process, so that `requestsWritten` and
   * `closed` are final when the summary is written.
   */
  async waitForFlush(): Promise<void> {
    // The sender writes each request whole, so nothing should be held here. A held part is written, not lost.
    if (this.partialLine.length > 0 && !this.closed) {
      this.writeToStream(Buffer.concat(this.partialLine));
      this.partialLine = [];
    }
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
