// Small file helpers: JSON reading with clear errors, and durable atomic writes.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ModelFileError } from "./errors.js";

export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Reads and parses a JSON file; missing, unreadable or invalid JSON → ModelFileError. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  let fh: FileHandle | undefined;
  try {
    fh = await openRegularFile(path);
    text = await fh.readFile("utf8");
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(path, code === "ENOENT" ? "file not found" : `cannot read: ${String(e)}`);
  } finally {
    await fh?.close();
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const bad = nonFiniteField(text);
    if (bad !== null) {
      throw new ModelFileError(
        path,
        `invalid JSON: field "${bad.key}" is ${bad.token}, which JSON does not allow ` +
          `(Python's json.dump writes it for nan/inf): write a finite number`,
      );
    }
    throw new ModelFileError(path, `invalid JSON: ${(e as Error).message}`);
  }
}

/** The first `"key": NaN` / `Infinity` / `-Infinity` in a text JSON.parse refused, or null. */
function nonFiniteField(text: string): { key: string; token: string } | null {
  const m = /"((?:[^"\\\n]|\\.){0,200})"\s*:\s*(-?(?:NaN|Infinity))\b/.exec(text);
  return m ? { key: m[1]!, token: m[2]! } : null;
}

/**
 * Opens a file for reading and checks that it is a regular file. O_NONBLOCK: opening a FIFO
 * would otherwise wait for a writer, forever if none comes. ENOENT and other open errors are
 * thrown as they are; a FIFO, directory or device is a ModelFileError naming the path.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = st.isFIFO() ? "a FIFO (named pipe)" : st.isDirectory() ? "a directory" : "not a regular file";
      throw new ModelFileError(path, `is ${kind}, not a regular file; a model directory holds regular files`);
    }
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** A unique sibling path for temporary output ("<dir>/.<name>.tmp-<random>"). */
export function tempSibling(path: string, tag = "tmp"): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** fsyncs a directory so a rename inside it is durable (best effort where unsupported). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Some platforms/filesystems cannot fsync directories; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

/**
 * Writes a file atomically: the writer fills a temp file, which is fsynced and renamed
 * over `path`. Readers see either the old file or the complete new one.
 */
export async function writeFileAtomic(
  path: string,
  write: (fh: import("node:fs/promises").FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = tempSibling(path);
  const fh = await open(tmp, "wx");
  try {
    await write(fh);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(value, null, 2) + "\n", "utf8");
  await writeFileAtomic(path, async (fh) => {
    await fh.write(bytes, 0, bytes.length, 0);
  });
}
