import { actionFields, type ActionField, type ActionId } from "../../koala/fields.js";
import { rootDirectiveKey } from "../compile.js";
import { directiveNames } from "../registry.js";
import { listForbiddenCodePointRanges } from "../../pipeline/email-pattern.js";
import { actionIds, maxMappings } from "./validate-config.js";

/** Location of the JSON Schema that `koala-replay init` writes into `$schema`: the copy shipped in the package, present once koala-replay is installed in the project. */
export const configSchemaReference = "./node_modules/koala-replay/schema/koala-replay.config.schema.json";

const mappingValueDescription = `A JSON value, or a directive object with one of the keys ${directiveNames.join(", ")}, for example {"@path": "$.event"}.`;

function fieldSchema(field: ActionField): Record<string, unknown> {
  const format = field.format === undefined ? "" : ` (${field.format})`;
  const required = field.required ? "Required. " : "";
  return {
    description: `${required}${field.description}. Produces ${/^[aeiou]/.test(field.type) ? "an" : "a"} ${field.type}${format}. ${mappingValueDescription}`,
    default: field.default,
  };
}

function actionMappingSchema(action: ActionId): Record<string, unknown> {
  const fields = actionFields[action];
  const properties: Record<string, unknown> = {};
  for (const field of fields) properties[field.name] = fieldSchema(field);
  properties[rootDirectiveKey] = {
    description: 'Root directive of mappings exported from Segment: {"@transform": {"apply": …}}, applied before the fields.',
    type: "object",
  };
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      name: { type: "string", minLength: 1, description: "Name of the mapping, unique in the file. Reports count events under it." },
      enabled: { type: "boolean", default: true, description: "Whether the mapping runs." },
      trigger: { type: "string", minLength: 1, description: 'Which events the mapping receives, in Segment\'s trigger language, for example type = "track".' },
      action: { const: action },
      mapping: {
        type: "object",
        description: "Field mappings. A field left out is not sent, because the action's defaults do not fill it in.",
        additionalProperties: false,
        properties,
        required: fields.filter((field) => field.required).map((field) => field.name),
      },
    },
    required: ["name", "trigger", "action", "mapping"],
  };
}

/**
 * Builds the regular expression that the schema checks an email pattern with. It rejects what
 * `describeEmailPatternProblem` rejects: no "@" or more than one, nothing on one side of it, "[" or
 * "]", a backslash that does not escape *, ? or a backslash, and the code points of `listForbiddenCodePointRanges`.
 * It uses `\u{…}` escapes, so a validator must compile it with the `u` flag. Without the flag it
 * does not compile, so it cannot quietly match other characters.
 * NOTE: the code points come from the Unicode data of the Node.js that builds the schema. One with
 * a newer Unicode version may list more, and the schema test then fails until the file is regenerated.
 */
function emailPatternRegExpSource(): string {
  const forbidden = listForbiddenCodePointRanges()
    .map(([first, last]) => (first === last ? codePointEscape(first) : `${codePointEscape(first)}-${codePointEscape(last)}`))
    .join("");
  const character = `(?:[^@\\\\\\[\\]${forbidden}]|\\\\[*?\\\\])`;
  return `^${character}+@${character}+$`;
}

function codePointEscape(codePoint: number): string {
  const hex = codePoint.toString(16).toUpperCase();
  return codePoint > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, "0")}`;
}

/** Builds the JSON Schema of `koala-replay.config.json` from the action field declarations. */
export function buildConfigSchema(): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  for (const action of actionIds) definitions[`${action}Mapping`] = actionMappingSchema(action);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "koala-replay configuration",
    description: "Mappings from Segment events to Koala's actions, written in Segment's mapping directives.",
    type: "object",
    additionalProperties: false,
    required: ["mappings"],
    properties: {
      $schema: { type: "string" },
      mappings: {
        type: "array",
        minItems: 1,
        maxItems: maxMappings,
        items: { oneOf: actionIds.map((action) => ({ $ref: `#/definitions/${action}Mapping` })) },
      },
      excludeEmails: {
        type: "array",
        description:
          "Emails whose entries are not sent, such as your own staff's, checked after identity stitching fills missing emails. Globs on the whole address, compared after Unicode NFKC normalization and case folding: * matches any characters, ? one character, and \\*, \\? and \\\\ a literal *, ? and \\, for example \"*@yourcompany.com\". A lone \\ at the end is invalid. send, preview, inspect and check add the patterns of --exclude-emails.",
        items: { type: "string", pattern: emailPatternRegExpSource() },
      },
    },
    definitions,
  };
}
