/** Exit statuses, documented in `--help` and the README. */
export const ExitCode = {
  /** Everything that matched was delivered (or printed, in a dry run). */
  done: 0,
  /** Done, but some entries were not delivered: invalid events, unreadable lines or failed requests. */
  incomplete: 1,
  /** A usage or config error: nothing was sent. */
  usage: 2,
  /** Stopped by a fatal API answer (wrong key or endpoint). */
  fatalApi: 3,
  /**
   * The reader of stdout closed the pipe (`| head`) before everything was written: 128 + SIGPIPE (13),
   * as a shell reports a process that SIGPIPE ended. A dry run stops reading and prints its summary.
   */
  outputClosed: 141,
  /**
   * A file could not be written because of the disk, not the command: 74 is EX_IOERR of the BSD
   * sysexits.h. Either stdout failed for another reason than a closed pipe, such as a full disk
   * (ENOSPC) or a file-size limit (EFBIG), and a real send finishes and saves its checkpoint first.
   * Or the identity graph could not write its temporary files, which stops a run before it sends.
   */
  ioError: 74,
  /** Interrupted by Ctrl-C or SIGTERM. */
  interrupted: 130,
  /**
   * Interrupted by SIGHUP, when the terminal closed or the ssh connection dropped: 128 + SIGHUP (1),
   * as a shell reports a process that SIGHUP ended.
   */
  hangup: 129,
} as const;

/** An error the user can fix: printed as one line with the next command to try, without a stack trace. */
export class UsageError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, hint?: string, exitCode: number = ExitCode.usage) {
    super(message);
    this.name = "UsageError";
    this.hint = hint;
    this.exitCode = exitCode;
  }
}
