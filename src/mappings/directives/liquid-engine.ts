import { createRequire } from "node:module";
import type { Liquid } from "liquidjs";

/**
 * The Liquid engine behind `@liquid`, restricted as Segment restricts its own (actions-core 3.170.0,
 * mapping-kit/liquid-directive): templates of at most 1000 characters, 500 ms of rendering and 1e8
 * units of liquidjs's memory budget per render, and the tags and filters below disabled. The disabled
 * tags either read files (`include`, `layout`, `render`) or loop (`for`, `tablerow`, `case`). The
 * filters build or reorder collections.
 */
export const maxLiquidTemplateLength = 1000;

export const disabledLiquidTags: readonly string[] = ["case", "for", "include", "layout", "render", "tablerow"];

export const disabledLiquidFilters: readonly string[] = [
  "array_to_sentence_string",
  "concat",
  "find",
  "find_exp",
  "find_index",
  "find_index_exp",
  "group_by",
  "group_by_exp",
  "has",
  "has_exp",
  "map",
  "newline_to_br",
  "reject",
  "reject_exp",
  "reverse",
  "sort",
  "sort_natural",
  "uniq",
  "where_exp",
  "type",
];

function createEngine(): Liquid {
  const { Liquid } = createRequire(import.meta.url)("liquidjs") as typeof import("liquidjs");
  const engine = new Liquid({
    parseLimit: maxLiquidTemplateLength,
    renderLimit: 500,
    memoryLimit: 1e8,
    // Only own properties of the event are visible, so `constructor` or `__proto__` read nothing.
    ownPropertyOnly: true,
    // NOTE: Segment's `date` filter runs in its servers' time zone, which is not published; UTC makes
    // a replay give the same text wherever it runs.
    timezoneOffset: 0,
  });
  for (const tag of disabledLiquidTags) {
    const reject = (): never => {
      throw new Error(`the Liquid tag "${tag}" is disabled, as in Segment`);
    };
    engine.registerTag(tag, { parse: reject, render: reject });
  }
  for (const filter of disabledLiquidFilters) {
    engine.registerFilter(filter, (): never => {
      throw new Error(`the Liquid filter "${filter}" is disabled, as in Segment`);
    });
  }
  return engine;
}

let engine: Liquid | undefined;

/**
 * Returns the engine, created on first use. Loading liquidjs took about 50 ms of start-up (`node
 * --cpu-prof`, Node 20) in every run and every worker thread, and most configs have no `@liquid`.
 */
export function liquidEngine(): Liquid {
  engine ??= createEngine();
  return engine;
}
