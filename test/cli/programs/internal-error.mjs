// Loaded with `node --import` before koala-replay: makes the command line parser throw a TypeError,
// as a bug would, so that the run ends in the top-level catch that every command shares.
import { Command } from "commander";

Command.prototype.parseAsync = async function parseAsync() {
  throw new TypeError("fault injected by the exit status test");
};
