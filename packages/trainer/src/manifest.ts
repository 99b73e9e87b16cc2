// A checkpoint's manifest: the size and SHA-256 of every file in it, written last (atomically,
// fsynced) when the checkpoint is complete. Resume verifies a checkpoint against it, so a
// truncated or damaged file (a crash, a full disk, a bad copy) makes resume fall back to the
// previous checkpoint instead of failing on it.
import { createHash } from "node:crypto";
import { createReadStream, fsyncSync, closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { randomBytes } from "node:crypto";

export const MANIFEST_FILE = "manifest.json";

export interface Manifest {
  version: 1;
  /** Relative path ('/'-separated) → byte size and hex SHA-256. */
  files: Record<string, { size: number; sha256: string }>;
}

/** Every regular file under `dir` (relative, '/'-separated), sorted; the manifest itself excluded. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join("/"));
    }
  };
  await walk(dir);
  return out.filter((f) => f !== MANIFEST_FILE).sort();
}

/** SHA-256 of a file, streamed (a large checkpoint never blocks the event loop). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => h.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** Writes `path` through a temp file that is fsynced and renamed over it (durable and atomic). */
export function writeFileDurable(path: string, text: string): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fd = openSync(tmp, "wx");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Hashes every file of a finished checkpoint folder and writes its manifest (last). */
export async function writeManifest(dir: string): Promise<Manifest> {
  const files: Manifest["files"] = {};
  for (const f of await filesUnder(dir)) {
    const p = join(dir, f);
    files[f] = { size: (await stat(p)).size, sha256: await sha256File(p) };
  }
  const m: Manifest = { version: 1, files };
  writeFileDurable(join(dir, MANIFEST_FILE), `${JSON.stringify(m, null, 1)}\n`);
  return m;
}

/** The manifest of `dir`, or null when it has none (a checkpoint written before manifests). Throws when it is unreadable. */
export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const m = JSON.parse(text) as Manifest;
  if (m?.version !== 1 || typeof m.files !== "object" || m.files === null) throw new Error(`${join(dir, MANIFEST_FILE)}: not a version-1 manifest`);
  return m;
}

/**
 * Checks `dir` against its manifest: every listed file present with its size (`quick`) and
 * also its SHA-256 (default). Returns null when it verifies, else what is wrong (naming the file).
 */
export async function verifyManifest(dir: string, m: Manifest, opts: { quick?: boolean } = {}): Promise<string | null> {
  for (const [f, want] of Object.entries(m.files)) {
    const p = join(dir, ...f.split("/"));
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      return `${p} is missing`;
    }
    if (size !== want.size) return `${p} has ${size} bytes, the manifest says ${want.size} (truncated or damaged)`;
    if (!opts.quick && (await sha256File(p)) !== want.sha256) return `${p} does not match its SHA-256 in ${MANIFEST_FILE} (damaged)`;
  }
  return null;
}
