// Small file helpers shared by the data and report packages.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Writes a file atomically: to a temporary file in the same folder, then renamed over the
 * target, so a reader never sees a half-written file. Creates the folder when missing.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The non-empty lines of a JSONL text with their 1-based line numbers. */
export function jsonlLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split("\n").forEach((t, i) => {
    if (t.trim() !== "") out.push({ line: i + 1, text: t });
  });
  return out;
}

/** Parses one JSONL line; the error names the file and line. */
export function parseJsonLine(file: string, line: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file}:${line}: invalid JSON (${(e as Error).message})`);
  }
}

/** A data file is missing a field, has a wrong type, or cannot be parsed; the message says where. */
export class DataError extends Error {
  override name = "DataError";
}
