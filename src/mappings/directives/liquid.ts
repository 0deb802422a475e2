import type { Template } from "liquidjs";
import { expectString } from "../arguments.js";
import { absent, constant, type DirectiveCompiler } from "../context.js";
import { MappingRuntimeError } from "../errors.js";
import { liquidEngine, maxLiquidTemplateLength } from "./liquid-engine.js";

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function render(templates: Template[], event: unknown, pointer: string): string {
  // The event is passed as globals and a fresh object as the scope, because tags such as
  // `increment` write into the scope, and the event must stay untouched for the next mapping.
  try {
    const output: unknown = liquidEngine().renderSync(templates, {}, { globals: event as object });
    return typeof output === "string" ? output : String(output);
  } catch (error) {
    throw new MappingRuntimeError(pointer, `@liquid: ${errorMessage(error)}`);
  }
}

/**
 * `@liquid`: a Liquid template rendered on the event, always giving a string. The template is parsed
 * when the mapping is loaded, so a disabled tag or a syntax error is reported before any event is
 * read; Segment reports both on every event instead. A disabled filter can only be detected while
 * rendering, because filters are looked up by name at render time.
 */
export const compileLiquidDirective: DirectiveCompiler = (argument, pointer, context) => {
  const source = expectString(argument, pointer, context, { label: "@liquid", maxLength: maxLiquidTemplateLength });
  if (source === undefined) return absent;
  if (source === "") return constant("");

  let templates: Template[];
  try {
    templates = liquidEngine().parse(source);
  } catch (error) {
    context.report({ pointer, message: `invalid Liquid template: ${errorMessage(error)}`, expected: "a Liquid template" });
    return absent;
  }
  return (payload) => render(templates, payload, pointer);
};
