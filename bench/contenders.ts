import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CommandSpec } from "./measure/process.js";
import { benchSourceDirectory, compiledBenchDirectory, repositoryRoot } from "./paths.js";

/** The URL printed in dry-run requests. Both baselines print the same one, so outputs compare equal. */
export const dryRunUrl = "https://api2.getkoala.com/web/projects/<public-key>/batch";

export type ContenderId = "koala-replay" | "jq" | "segment-packages" | "parse-only";

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

export const koalaReplay: Contender = {
  id: "koala-replay",
  label: "koala-replay send --dry-run",
  commandFor: (archivePath) => ({
    command: process.execPath,
    // The policy is spelled out because the jq program and Segment's pipeline skip analytics.js
    // track events too: with another default the three would no longer do the same work.
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
