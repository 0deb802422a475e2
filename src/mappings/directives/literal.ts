import type { DirectiveCompiler } from "../context.js";

/**
 * `@literal`: its value, as it is. Directives nested inside are still evaluated, as in Segment, whose
 * tests pin that behaviour, so `@literal` cannot produce an object with `@`-prefixed keys.
 */
export const compileLiteralDirective: DirectiveCompiler = (argument, pointer, context) =>
  context.compileValue(argument, pointer);
