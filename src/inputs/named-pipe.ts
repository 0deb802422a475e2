import { constants, open } from "node:fs";
import { stat } from "node:fs/promises";
import { Socket } from "node:net";

/** Checks whether `path` is a named pipe (a FIFO, or a pipe such as `/dev/fd/63` from `<(…)`). */
export async function isNamedPipe(path: string): Promise<boolean> {
  return (await stat(path)).isFIFO();
}

/**
 * Opens a named pipe for reading as a stream that stops at once when destroyed, even while its
 * writer is silent. A file stream reads on libuv's thread pool, where a read from a pipe blocks a
 * thread until the writer writes or closes, and destroying the stream waits for that read. Here the
 * pipe is opened with O_NONBLOCK and read as a socket, through the event loop. The open does not
 * wait for a writer, and on Linux a read before the first writer waits for it rather than ending.
 */
export async function openNamedPipe(path: string): Promise<Socket> {
  const descriptor = await new Promise<number>((resolve, reject) => {
    open(path, constants.O_RDONLY | constants.O_NONBLOCK, (error, opened) => (error === null ? resolve(opened) : reject(error)));
  });
  return new Socket({ fd: descriptor, readable: true, writable: false });
}
