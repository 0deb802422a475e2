import type { DirectiveCompiler } from "./context.js";
import { compileArrayPathDirective } from "./directives/array-path.js";
import { compileCaseDirective } from "./directives/case.js";
import { compileExcludeWhenNullDirective } from "./directives/exclude-when-null.js";
import { compileFlattenDirective } from "./directives/flatten.js";
import { compileIfDirective } from "./directives/if.js";
import { compileJsonDirective } from "./directives/json.js";
import { compileLiquidDirective } from "./directives/liquid.js";
import { compileLiteralDirective } from "./directives/literal.js";
import { compileMergeDirective } from "./directives/merge.js";
import { compilePathDirective } from "./directives/path.js";
import { compileReplaceDirective } from "./directives/replace.js";
import { compileTemplateDirective } from "./directives/template.js";
import { compileTransformDirective } from "./directives/transform.js";

/** Every directive of Segment's mapping language (actions-core 3.170.0), by name. Names are case-sensitive. */
export const directiveCompilers: ReadonlyMap<string, DirectiveCompiler> = new Map<string, DirectiveCompiler>([
  ["@path", compilePathDirective],
  ["@template", compileTemplateDirective],
  ["@literal", compileLiteralDirective],
  ["@if", compileIfDirective],
  ["@case", compileCaseDirective],
  ["@replace", compileReplaceDirective],
  ["@arrayPath", compileArrayPathDirective],
  ["@json", compileJsonDirective],
  ["@flatten", compileFlattenDirective],
  ["@merge", compileMergeDirective],
  ["@transform", compileTransformDirective],
  ["@excludeWhenNull", compileExcludeWhenNullDirective],
  ["@liquid", compileLiquidDirective],
]);

export const directiveNames: readonly string[] = [...directiveCompilers.keys()];

/** A key allowed beside a directive, where Segment's editor keeps notes about the field. */
export const metadataKey = "_metadata";
