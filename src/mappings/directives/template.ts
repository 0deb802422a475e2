import { isDirectiveObject, reportNotStringOrDirective } from "../arguments.js";
import { absent, type DirectiveCompiler, type Evaluate } from "../context.js";
import { MappingRuntimeError } from "../errors.js";
import { describeTemplateProblem, parseTemplate, renderTemplate, type TemplatePart } from "../template-text.js";
import { describeValue } from "../value-types.js";

/** `@template`: text with `{{path}}` placeholders. The template may itself be computed by a directive. */
export const compileTemplateDirective: DirectiveCompiler = (argument, pointer, context) => {
  if (typeof argument === "string") {
    const parsed = parseTemplate(argument);
    if (parsed.ok) {
      const parts = parsed.parts;
      return (payload) => renderTemplate(parts, payload);
    }
    context.report({ pointer, message: `invalid template: ${describeTemplateProblem(parsed)}`, expected: "a template such as \"Hi {{traits.name}}\"" });
    return absent;
  }
  if (isDirectiveObject(argument)) {
    return computedTemplate(context.compileValue(argument, pointer), pointer);
  }
  reportNotStringOrDirective(argument, pointer, context, "@template");
  return absent;
};

function computedTemplate(computeTemplate: Evaluate, pointer: string): Evaluate {
  let lastText: string | undefined;
  let lastParts: TemplatePart[] = [];
  return (payload) => {
    const text = computeTemplate(payload);
    if (typeof text !== "string") {
      throw new MappingRuntimeError(pointer, `@template: the computed template must be a string, found ${describeValue(text)}`);
    }
    if (text !== lastText) {
      const parsed = parseTemplate(text);
      if (!parsed.ok) {
        // The placeholder comes from the event, so it goes after ", found" and invalid events group by the problem.
        const found = `placeholder ${JSON.stringify(parsed.placeholder)} at position ${parsed.position}`;
        throw new MappingRuntimeError(pointer, `@template: invalid placeholder in the computed template: ${parsed.reason}, found ${found}`);
      }
      lastParts = parsed.parts;
      lastText = text;
    }
    return renderTemplate(lastParts, payload);
  };
}
