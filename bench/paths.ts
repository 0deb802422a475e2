import { fileURLToPath } from "node:url";

/** The repository root. This file is compiled to dist-bench/bench/paths.js, two levels below it. */
export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Compiled bench scripts, run as child processes. */
export const compiledBenchDirectory = fileURLToPath(new URL("./", import.meta.url));

/** Source files that are read at run time rather than compiled, such as the jq program. */
export const benchSourceDirectory = fileURLToPath(new URL("../../bench/", import.meta.url));
