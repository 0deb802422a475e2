/**
 * Returns the command that starts koala-replay as the user started it: `npx koala-replay` when npm
 * ran it (npx and `npm exec` set `npm_command` to "exec", checked with npm 10.9 and 11.19), else `koala-replay`.
 * Printed commands start with it, because a bare `koala-replay` is not on PATH after `npm install`.
 */
export function toolCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env["npm_command"] === "exec" ? "npx koala-replay" : "koala-replay";
}

/** Rewrites each `koala-replay ` at the start of a command in `text` to start as `toolCommand()` does. */
export function withToolCommand(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const command = toolCommand(env);
  return command === "koala-replay" ? text : text.replaceAll("koala-replay ", `${command} `);
}
