/**
 * Defaults shown in `--help`. They live apart from send-options.ts, which imports most of the
 * pipeline, so that building the program for `--help` or `--version` loads none of it.
 */
export const DEFAULT_ENDPOINT = "https://api2.getkoala.com";
export const DEFAULT_CONCURRENCY = 8;
