// `rlvr mathworld export`: the seeded splits as verl parquet + JSONL, through @rlvr/data's writers.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { writeVerlDataset } from "@rlvr/data";

import { generateSplits, splitRows, type SplitOptions } from "./generator.js";

export interface ExportResult {
  files: string[];
  train: number;
  test: number;
}

/** Writes DIR/train.{parquet,jsonl} and DIR/test.{parquet,jsonl}. */
export function exportSplits(outDir: string, o: SplitOptions = {}): ExportResult {
  const rows = splitRows(generateSplits(o));
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const split of ["train", "test"] as const) {
    for (const ext of ["parquet", "jsonl"]) {
      const path = join(outDir, `${split}.${ext}`);
      writeVerlDataset(path, rows[split]);
      files.push(path);
    }
  }
  return { files, train: rows.train.length, test: rows.test.length };
}
