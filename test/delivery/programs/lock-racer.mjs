// Takes file locks with the built FileLock for the lock race test. Each line on stdin is a path to
// lock. The program prints one line for each, `<path> won`, `<path> in-use` or `<path> error
// <message>`, and keeps every lock it won until stdin ends, so that a second winner cannot be a run
// that came after the first one released its lock.
import { createInterface } from "node:readline";
import { FileInUseError, FileLock } from "../../../dist/delivery/file-lock.js";

const acquiredLocks = [];
for await (const path of createInterface({ input: process.stdin })) {
  try {
    acquiredLocks.push(FileLock.acquire(path, "checkpoint"));
    process.stdout.write(`${path} won\n`);
  } catch (error) {
    const outcome = error instanceof FileInUseError ? "in-use" : `error ${error.code ?? ""} ${error.message}`;
    process.stdout.write(`${path} ${outcome}\n`);
  }
}
for (const lock of acquiredLocks) {
  lock.release();
}
