// Reading input files the user names. A path may be anything: a FIFO (reading one blocks until
// some process writes to it, forever if none does), a directory, a device. The file is opened
// without blocking and checked to be a regular file before a byte is read.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { DataError } from "./files.js";

function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** The bytes of a regular file; DataError naming the path for a missing file, a FIFO, a directory... */
export function readRegularFile(path: string): Buffer;
export function readRegularFile(path: string, encoding: "utf8"): string;
export function readRegularFile(path: string, encoding?: "utf8"): Buffer | string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError(`${path}: file not found`);
    throw new DataError(`${path}: cannot open (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DataError(`${path}: is ${kindOf(st)}, not a regular file; give the path of a data file`);
    return encoding === undefined ? readFileSync(fd) : readFileSync(fd, encoding);
  } finally {
    closeSync(fd);
  }
}
