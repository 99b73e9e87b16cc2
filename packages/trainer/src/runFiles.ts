// File-system helpers of the run folder: errors that name the path and the fix, appends that
// never follow a symlink out of the run folder, and the check that run files are plain files.
import { closeSync, constants, fsyncSync, lstatSync, openSync, writeSync } from "node:fs";

/** A file-system failure in the run folder; the message names the path, the cause and the fix. */
export class RunFileError extends Error {
  override name = "RunFileError";
  constructor(
    message: string,
    readonly path: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A readable explanation of an fs error at `path` while doing `action` ("write checkpoint", ...). */
export function fsErrorMessage(e: unknown, path: string, action: string): string {
  const err = e as NodeJS.ErrnoException;
  const where = err.path && err.path !== path ? `${path} (at ${err.path})` : path;
  switch (err.code) {
    case "ENOSPC":
      return `cannot ${action} ${where}: no space left on the device (ENOSPC); free some space or choose another --out`;
    case "EDQUOT":
      return `cannot ${action} ${where}: disk quota exceeded (EDQUOT); free some space or choose another --out`;
    case "EROFS":
      return `cannot ${action} ${where}: the file system is read-only (EROFS); choose a writable --out`;
    case "EACCES":
    case "EPERM":
      return `cannot ${action} ${where}: permission denied (${err.code}); choose a folder you can write to with --out, or fix its permissions`;
    case "ENOTDIR":
      return `cannot ${action} ${where}: a part of the path is a file, not a folder (ENOTDIR); choose another --out`;
    case "ENOENT":
      return `cannot ${action} ${where}: no such file or folder (ENOENT); check the path`;
    case "ELOOP":
      return `cannot ${action} ${where}: it is a symbolic link, and run files are never written through links (ELOOP); remove the link`;
    default:
      return `cannot ${action} ${where}: ${err.message ?? String(e)}`;
  }
}

/** Runs `fn`; an fs error becomes a RunFileError naming `path` (other errors pass through). */
export function withPath<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asRunFileError(e, path, action);
  }
}

/** Async withPath. */
export async function withPathAsync<T>(path: string, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asRunFileError(e, path, action);
  }
}

function asRunFileError(e: unknown, path: string, action: string): unknown {
  if (e instanceof RunFileError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) return e;
  return new RunFileError(fsErrorMessage(e, path, action), path, code);
}

/**
 * Appends one line to a run file, refusing to follow a symbolic link (O_NOFOLLOW): a link
 * planted in the run folder must not send the run's records outside it.
 */
export function appendLineNoFollow(path: string, line: string): void {
  withPath(path, "append to", () => {
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** Throws when `path` exists and is not a plain file (a symlink, a folder, a device). */
export function assertPlainFileOrMissing(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw asRunFileError(e, path, "inspect");
  }
  if (st.isSymbolicLink()) {
    throw new RunFileError(`${path} is a symbolic link: run files are never written through links (they could point outside the run folder); remove it`, path, "ELOOP");
  }
  if (!st.isFile()) throw new RunFileError(`${path} is not a regular file; remove or rename it`, path);
}
