import { actionFields, type ActionField, type ActionId } from "../koala/fields.js";
import { presetMappings } from "../koala/presets.js";

export type HelpFormat = "text" | "markdown";

const actionIds: readonly ActionId[] = ["trackEvent", "identifyVisitor"];

function actionTitle(action: ActionId): string {
  switch (action) {
    case "trackEvent":
      return "Track Event";
    case "identifyVisitor":
      return "Identify Visitor";
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

function fieldType(field: ActionField): string {
  return field.format === undefined ? field.type : `${field.type} (${field.format})`;
}

function presetTrigger(action: ActionId): string {
  return presetMappings().find((preset) => preset.action === action)?.trigger ?? "";
}

function renderText(action: ActionId): string {
  const fields = actionFields[action];
  const width = Math.max(...fields.map((field) => field.name.length));
  const lines = [`${actionTitle(action)} (action "${action}", preset trigger: ${presetTrigger(action)})`];
  for (const field of fields) {
    const required = field.required ? "required" : "optional";
    lines.push(`  ${field.name.padEnd(width)}  ${fieldType(field)}, ${required}: ${field.description}`);
    lines.push(`  ${" ".repeat(width)}  default: ${JSON.stringify(field.default)}`);
  }
  return lines.join("\n");
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function renderMarkdown(action: ActionId): string {
  const lines = [
    `### ${actionTitle(action)} (\`${action}\`)`,
    "",
    `Preset trigger: \`${presetTrigger(action)}\``,
    "",
    "| field | type | required | description | default |",
    "|---|---|---|---|---|",
  ];
  for (const field of actionFields[action]) {
    const cells = [`\`${field.name}\``, fieldType(field), field.required ? "yes" : "no", field.description, `\`${JSON.stringify(field.default)}\``];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Renders the fields of Koala's two actions, with types and default mappings, for `--help` (text) or the docs (markdown). */
export function renderActionFields(format: HelpFormat = "text"): string {
  const render = format === "markdown" ? renderMarkdown : renderText;
  return `${actionIds.map(render).join("\n\n")}\n`;
}
