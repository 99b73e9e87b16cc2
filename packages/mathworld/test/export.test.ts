import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { readVerlDataset } from "@rlvr/data";

import { exportSplits, generateSplits, splitRows } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "rlvr-mathworld-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("export", () => {
  it("writes parquet and JSONL that @rlvr/data's loaders read back unchanged", async () => {
    const res = exportSplits(dir, { seed: 4, trainSize: 60, testSize: 20 });
    expect(res.files.map((f) => f.slice(dir.length + 1))).toEqual(["train.parquet", "train.jsonl", "test.parquet", "test.jsonl"]);
    const rows = splitRows(generateSplits({ seed: 4, trainSize: 60, testSize: 20 }));
    for (const split of ["train", "test"] as const) {
      for (const ext of ["parquet", "jsonl"]) {
        const read = await readVerlDataset(join(dir, `${split}.${ext}`));
        expect(read).toEqual(rows[split]);
      }
    }
  });
});
