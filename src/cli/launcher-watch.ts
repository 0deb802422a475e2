import { wrapStderrMessage } from "./stderr-message.js";

// How a send notices that `npx` or `npm exec` has ended under it. npm (checked with npm 11.19 on
// Node 20.20, Linux) runs the command through `sh -c`, and forwards SIGINT and SIGTERM to that shell
// only. On SIGTERM the shell (dash) ends without signalling koala-replay, and npx exits with status
// 143 at once, so koala-replay would go on sending, holding its lock, with no process waiting for it.
// The watch detects the shell's end by a change of the parent process id, because the kernel gives
// the orphan another parent.
// NOTE: SIGINT to npx alone leaves the shell running and waiting for koala-replay, so nothing
// changes here and the run goes on to its end. The README explains how a script should signal koala-replay.

/** How often the watch reads the parent process id. */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Returns whether `npx` or `npm exec` started this process, as the `npm_command` variable that npm
 * sets for the command shows. `npm run` scripts are left out, because a script may end its shell on
 * purpose while koala-replay goes on in the background (`koala-replay send … &`).
 */
export function startedByNpmExec(env: NodeJS.ProcessEnv = process.env): boolean {
  return env["npm_command"] === "exec";
}

/**
 * Calls `onLauncherGone` once when the parent process of a process that `npx` or `npm exec`
 * started has ended, and does nothing for a process started otherwise, such as by `npm run` or a
 * shell. (A run meant to outlive its terminal needs `setsid`: Node resets SIGHUP, so `nohup` alone
 * does not keep it alive.) Returns a function that stops the watch. The timer does
 * not keep the process alive.
 */
export function watchLauncher(onLauncherGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  const parent = process.ppid;
  if (!startedByNpmExec(env)) {
    return () => {};
  }
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onLauncherGone();
    }
  }, CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Stops a send as SIGHUP does when npx or npm exec has ended under it (see `watchLauncher`): the
 * checkpoint is saved, the locks are removed, and the report records the interruption as SIGHUP.
 * A run already interrupted is left to finish its stop. Returns a function that stops the watch.
 */
export function stopSendWhenLauncherGone(interrupted: AbortSignal, logLine: (line: string) => void): () => void {
  return watchLauncher(() => {
    if (interrupted.aborted) {
      return;
    }
    logLine(`\n${wrapStderrMessage("the npx or npm exec process that started koala-replay has ended, so the run stops as on SIGHUP")}`);
    // The listeners of a real SIGHUP run, so the stop takes the path and the exit status of SIGHUP.
    process.emit("SIGHUP", "SIGHUP");
  });
}
