/** The text styles the reports use; each is the identity function when colour is off. */
export interface TextStyle {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

/**
 * Decides whether to colour output written to `stream`. `FORCE_COLOR` wins when set (`0` or
 * `false` turn colour off), then a non-empty `NO_COLOR` turns it off (no-color.org), and otherwise
 * a terminal other than `TERM=dumb` gets colour. This is the order Node's own `getColorDepth` uses.
 */
export function isColorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") {
    return force !== "0" && force.toLowerCase() !== "false";
  }
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") {
    return false;
  }
  return stream.isTTY === true && env["TERM"] !== "dumb";
}

/** Builds the styles, as ANSI SGR sequences when `enabled` and as plain text otherwise. */
export function createTextStyle(enabled: boolean): TextStyle {
  const sgr = (open: number, close: number) => (text: string): string => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    magenta: sgr(35, 39),
  };
}

/** Removes ANSI SGR sequences, to measure the width a styled text takes on screen. */
export function stripStyles(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * Writes C0 and C1 control characters and DEL as escapes such as `\u001b`, for values read from
 * events that reports print as plain text. An escape sequence there would otherwise drive the terminal.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
