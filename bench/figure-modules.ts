import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BenchContext, Figure, MeasureFigures } from "./figure.js";
import { benchSourceDirectory, compiledBenchDirectory } from "./paths.js";
import { type ResultRow, rowFromFigure } from "./result-row.js";

export const figureModulesDirectory = join(compiledBenchDirectory, "figures");
const figureSourcesDirectory = join(benchSourceDirectory, "figures");

/**
 * Lists the compiled figure modules, in name order so that runs print their rows in the same order.
 * With `sourcesDirectory`, a compiled module is listed only while its TypeScript source exists,
 * because tsc leaves the output of a deleted source behind.
 */
export function listFigureModules(directory: string = figureModulesDirectory, sourcesDirectory: string | null = null): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith(".js"))
    .filter((name) => sourcesDirectory === null || existsSync(join(sourcesDirectory, name.replace(/\.js$/, ".ts"))))
    .sort();
}

/**
 * Imports every module in bench/figures/ and runs its `measure`. A module that fails to load, has no
 * `measure` function, or throws becomes a row that reports the failure, and the other modules still run.
 */
export async function measureFigureModules(
  context: BenchContext,
  log: (message: string) => void,
  directory: string = figureModulesDirectory,
  sourcesDirectory: string | null = figureSourcesDirectory,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const names = listFigureModules(directory, sourcesDirectory);
  if (names.length === 0) log(`  no figure modules in ${directory}`);
  for (const name of names) {
    const started = performance.now();
    try {
      const figures = await runModule(directory, name, context);
      rows.push(...figures.map(rowFromFigure));
      log(`  ${name}: ${figures.length} figures in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  ${name}: failed: ${message}`);
      rows.push(failedModuleRow(name, message));
    }
  }
  return rows;
}

async function runModule(directory: string, name: string, context: BenchContext): Promise<Figure[]> {
  const loaded = (await import(pathToFileURL(join(directory, name)).href)) as { measure?: unknown };
  if (typeof loaded.measure !== "function") {
    throw new Error(`bench/figures/${name} does not export a measure function`);
  }
  const figures: unknown = await (loaded.measure as MeasureFigures)(context);
  if (!Array.isArray(figures)) throw new Error(`measure in bench/figures/${name} returned ${typeof figures}, expected an array of figures`);
  return figures as Figure[];
}

function failedModuleRow(name: string, message: string): ResultRow {
  return {
    id: `module.${name.replace(/\.js$/, "")}.failed`,
    label: `bench/figures/${name}`,
    unit: "",
    koalaReplay: null,
    baseline: null,
    baselineLabel: "",
    higherIsBetter: true,
    note: `failed: ${message}`,
  };
}
