import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CommandSpec } from "./measure/process.js";
import { benchSourceDirectory, compiledBenchDirectory, repositoryRoot } from "./paths.js";

/** The URL printed in dry-run requests. Both baselines print the same one, so outputs compare equal. */
export const dryRunUrl = "https://api2.getkoala.com/web/projects/<public-key>/batch";

export type ContenderId = "koala-replay" | "koala-replay-stitching" | "jq" | "segment-packages" | "parse-only";

export interface Contender {
  id: ContenderId;
  label: string;
  commandFor(archivePath: string): CommandSpec;
}

export const koalaReplayEntry = join(repositoryRoot, "dist", "cli", "main.js");

/** Checks whether the CLI has been built. Its figures are reported as not available otherwise. */
export function koalaReplayAvailable(): boolean {
  return existsSync(koalaReplayEntry);
}

/**
 * koala-replay doing the same work as the baselines: the browser-event policy is spelled out
 * because they skip analytics.js track events too, and `--no-stitch` turns off identity stitching,
 * which fills missing emails in a second pass that neither baseline makes.
 */
export const koalaReplay: Contender = {
  id: "koala-replay",
  label: "koala-replay send --dry-run --no-stitch",
  commandFor: (archivePath) => ({
    command: process.execPath,
    args: [join(repositoryRoot, "bin", "koala-replay.js"), "send", "--dry-run", "--browser-events", "skip", "--no-stitch", archivePath],
    cwd: repositoryRoot,
  }),
};

/** koala-replay as a user runs it by default, with identity stitching: two passes over the input. */
export const koalaReplayStitching: Contender = {
  id: "koala-replay-stitching",
  label: "koala-replay send --dry-run (stitching on)",
  commandFor: (archivePath) => ({
    command: process.execPath,
    args: [join(repositoryRoot, "bin", "koala-replay.js"), "send", "--dry-run", "--browser-events", "skip", archivePath],
    cwd: repositoryRoot,
  }),
};

export const jqProgram = join(benchSourceDirectory, "baselines", "koala-presets.jq");

export const jq: Contender = {
  id: "jq",
  label: "jq program (same presets)",
  commandFor: (archivePath) => ({
    command: "jq",
    args: ["-c", "--arg", "url", dryRunUrl, "-f", jqProgram],
    stdinFile: archivePath,
  }),
};

export const segmentPackages: Contender = {
  id: "segment-packages",
  label: "Segment's packages in Node",
  commandFor: (archivePath) => ({
    command: process.execPath,
    args: [join(compiledBenchDirectory, "baselines", "segment-pipeline.js"), archivePath, dryRunUrl],
  }),
};

export const parseOnly: Contender = {
  id: "parse-only",
  label: "Node split + JSON.parse only",
  commandFor: (archivePath) => ({
    command: process.execPath,
    args: [join(compiledBenchDirectory, "baselines", "parse-only.js"), archivePath],
  }),
};
