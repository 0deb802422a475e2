/** Help texts shown after each command's options: the exit statuses, then examples. */

export const EXIT_STATUS_HELP = `
Exit status:
  0    everything that matched was delivered (or printed, with --dry-run)
  1    done, but some entries were not delivered (invalid events, unreadable
       lines, failed requests), or an internal error (a bug: the message
       with its stack trace asks you to report it)
  2    usage or config error; nothing was sent
  3    stopped by a fatal answer from Koala (wrong public key or endpoint), or
       by Koala not responding for --max-outage-ms; resume with --resume
  74   a file could not be written (full disk, file-size limit): stdout, the
       --not-sent file or the --report file, and a real send still finishes
       and saves its checkpoint; or the temporary files of the identity graph
       in TMPDIR, and nothing was sent
  129  interrupted by SIGHUP (the terminal closed or the ssh connection
       dropped); the checkpoint is saved, as after Ctrl-C
  130  interrupted by Ctrl-C or SIGTERM; resume with --resume
  141  a dry run stopped because the reader of stdout closed the pipe (| head);
       the summary and --report count what was done until then`;

export const READ_ONLY_EXIT_STATUS_HELP = `
Exit status:
  0    the inputs were read
  1    some lines or files could not be read (they are counted), or an
       internal error (a bug: the message asks you to report it)
  2    usage or config error
  74   stdout, or the temporary files of the identity graph in TMPDIR, could
       not be written (full disk, file-size limit)
  130  interrupted by Ctrl-C: SIGINT ends the process (shells show 130)
  141  the reader of stdout closed the pipe (| head) before the whole report
       was written
  143  stopped by SIGTERM, which ends the process (shells show 143)`;

export const PROGRAM_EXAMPLES = `
Examples:
  # see what an archive contains before writing any mapping
  koala-replay inspect ./segment-logs

  # see what a few events become, and why others would not be sent
  koala-replay preview ./segment-logs

  # replay an archive into Koala, keeping a JSON report of the run
  KOALA_PUBLIC_KEY=<key> koala-replay send --report run.json ./segment-logs`;

export const SEND_EXAMPLES = `
Examples:
  # preview the requests for an S3 archive folder, one JSON line per request
  koala-replay send --dry-run ./segment-logs

  # replay a gzip archive into Koala
  KOALA_PUBLIC_KEY=<key> koala-replay send events.jsonl.gz

  # keep a JSON record of the run, and log every retry and dead letter
  koala-replay send --report run.json --verbose ./segment-logs

  # list every event that was skipped, invalid or unreadable, with the reason
  koala-replay send --not-sent not-sent.ndjson ./segment-logs
  jq -r .reason not-sent.ndjson | sort | uniq -c

  # print the run's report as JSON for a script instead of the text summary
  koala-replay send --json ./segment-logs | jq .counts

  # include analytics.js track events recorded before Koala's pixel went live
  koala-replay send --dry-run --browser-events before:2024-03-01 \\
    ./segment-logs

  # only order events of the first quarter of 2024
  koala-replay send --dry-run --filter 'event = "Order Completed"' \\
    --since 2024-01-01 --until 2024-04-01 ./archive

  # a warehouse export: the table comes from the file name (tracks.csv) or
  # from --csv-table
  koala-replay send --dry-run --csv-table identifies export.csv

  # read from a pipe (stdin cannot be read twice, so stitching needs
  # --identities or --no-stitch)
  gunzip -c export.gz |
    koala-replay send --dry-run --no-stitch - | jq .body.email

  # the same with process substitution in bash; a named pipe (mkfifo)
  # works the same way
  koala-replay send --dry-run --identities users.csv <(gunzip -c export.gz)

Progress:
  On a terminal, a status line on stderr shows events read, sent, skipped and
  failed, the rate, and (for files) the share read and the time left to read.
  Once the inputs are read, it shows the entries sent per second instead. It is
  never shown in a pipe, in CI (CI set), with TERM=dumb, with --quiet or with
  --no-progress, nor on a terminal that reports a width of 0 columns, as one
  opened by script(1) does: stty cols 100 gives it a width.`;

export const PREVIEW_EXAMPLES = `
Examples:
  # three examples per mapping, and a sample of what would not be sent
  koala-replay preview ./segment-logs

  # one example per mapping, with analytics.js track events included
  koala-replay preview --limit 1 --browser-events include events.jsonl.gz

  # plain text for a file or a pager (colour is off in a pipe; NO_COLOR turns
  # it off, FORCE_COLOR on)
  koala-replay preview ./segment-logs > preview.txt
  FORCE_COLOR=1 koala-replay preview ./segment-logs | less -R

Reading stops as soon as every mapping has --limit examples, or after
--max-events events. Identity stitching is on, as in send, unless --no-stitch is
given: the input files are first read to the end, to find the email of each
userId and anonymousId, so a large archive takes longer. stdin and pipes can be
read only once, so for them stitching needs --identities <file>, and is off
without it (the output then says so).`;

export const INSPECT_EXAMPLES = `
Examples:
  # event types, names, libraries, time range, identity coverage and what
  # each mapping would take
  koala-replay inspect ./segment-logs

  # the same as JSON for scripts (keys: docs/reports.md in the package)
  koala-replay inspect --json ./segment-logs | jq .identity

  # the 25 most frequent track event names
  koala-replay inspect --top 25 events.jsonl.gz

The "would be sent" counts and the request estimate are those of send --dry-run
with the same options: identity stitching is on unless --no-stitch is given, and
reads the input files twice, and an entry whose mapping and messageId an earlier
entry had counts as a duplicate, which send skips. stdin and pipes can be read
only once, so for them stitching needs --identities <file>, and is off without
it (the output then says so).`;

export const CSV_HELP = `
CSV cells stay text, except: empty cells (the value was absent) are left out;
JSON-looking cells holding an object or array become that value; timestamps
without a zone are UTC, and epoch seconds or milliseconds become ISO-8601; with
--csv-numbers, number-like cells become numbers. Rows without an id get a
messageId derived from their content, so a second run is deduplicated by Koala.
Full rules: docs/csv.md.`;

export const CHECK_EXAMPLES = `
Examples:
  # validate koala-replay.config.json (or the presets) and test the public key
  # with Koala
  KOALA_PUBLIC_KEY=<key> koala-replay check
  koala-replay check --config configs/backfill.json \\
    --endpoint http://127.0.0.1:8080

  # compile one trigger, and test it on an event
  koala-replay check --trigger 'type = "track" and properties.plan = "pro"'
  koala-replay check --trigger 'event = "Signed Up"' \\
    --event '{"type":"track","event":"Signed Up"}'
  koala-replay check --dialect fql \\
    --trigger 'lowercase(event) = "signed up"' --event event.json

  # test every mapping of the config on an event
  koala-replay check --event event.json

Exit status:
  0    everything checked is valid (and, with --event, the trigger or a
       mapping matches it)
  1    with --event, the trigger (or, without --trigger, every enabled mapping)
       does not match the event, or an internal error (a bug: the message asks
       you to report it)
  2    the config or a trigger is invalid, or a usage error
  3    Koala rejects the public key, cannot be reached or responds with an
       error
  74   stdout could not be written (full disk, file-size limit)
  130  interrupted by Ctrl-C: SIGINT ends the process (shells show 130)
  141  the reader of stdout closed the pipe (| head) before the output was
       written
  143  stopped by SIGTERM, which ends the process (shells show 143)`;

export const INIT_HELP = `
Examples:
  koala-replay init
  koala-replay init configs/backfill.json

An existing file is never overwritten.

Exit status:
  0    the config was written
  1    an internal error (a bug: the message asks you to report it)
  2    the file exists already, or cannot be written
  74   the config was written, but stdout could not be (full disk, file-size
       limit)
  130  interrupted by Ctrl-C: SIGINT ends the process (shells show 130)
  141  the config was written, but the reader of stdout closed the pipe
       (| head) before the message was written
  143  stopped by SIGTERM, which ends the process (shells show 143)`;
