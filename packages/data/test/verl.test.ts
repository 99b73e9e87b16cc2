import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError, readVerlDataset, readVerlJsonl, readVerlParquet, toVerlRow, writeVerlDataset, type VerlRow } from "../src/index.js";
import { row, tempDir } from "./helpers.js";

describe("verl rows", () => {
  it("round-trips through parquet and JSONL, extra fields included", async () => {
    const dir = tempDir();
    const rows = [row(3, "\\frac{4}{3}", { level: "2", n: 7, w: 0.5, ok: true, meta: { a: 1 } }), row(0, "12.8", { level: "5", n: 1 })];
    writeVerlDataset(join(dir, "a.parquet"), rows);
    writeVerlDataset(join(dir, "a.jsonl"), rows);
    const fromParquet = await readVerlDataset(join(dir, "a.parquet"));
    // Non-scalar extra fields are stored in parquet as JSON text.
    expect(fromParquet[0]!.extra_info.meta).toBe('{"a":1}');
    const withoutMeta = (rs: VerlRow[]) =>
      rs.map((r) => {
        const { meta: _meta, ...extra } = r.extra_info;
        return { ...r, extra_info: extra };
      });
    expect(withoutMeta(fromParquet)).toEqual(withoutMeta(rows));
    expect(await readVerlDataset(join(dir, "a.jsonl"))).toEqual(rows);
  });

  it("errors name the file, the row or line, and the field", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.jsonl");
    const good = JSON.stringify(row(1));
    const bad = row(2) as unknown as { reward_model: Record<string, unknown> };
    delete bad.reward_model.ground_truth;
    writeFileSync(file, `${good}\n\n${JSON.stringify(bad)}\n`);
    expect(() => readVerlJsonl(file)).toThrow(`${file}:3: field "reward_model.ground_truth" is missing, expected a string`);
    writeFileSync(file, `${good}\n{not json\n`);
    expect(() => readVerlJsonl(file)).toThrow(`${file}:2: invalid JSON`);
    expect(() => toVerlRow({ ...row(1), prompt: [{ role: "user" }] }, "x.parquet row 9")).toThrow(
      'x.parquet row 9: field "prompt[0].content" is missing, expected a string',
    );
    expect(() => toVerlRow({ ...row(1), extra_info: { index: -1 } }, "r")).toThrow('field "extra_info.index"');
    expect(() => toVerlRow({ ...row(1), prompt: [] }, "r")).toThrow('field "prompt"');
    await expect(readVerlDataset(join(dir, "x.csv"))).rejects.toThrow(DataError);
    writeFileSync(join(dir, "junk.parquet"), "not parquet");
    await expect(readVerlParquet(join(dir, "junk.parquet"))).rejects.toThrow(/junk\.parquet: not a valid parquet file, or one this reader does not support \(11 bytes\)/);
  });

  it("refuses to write an empty parquet file and an unknown extension", () => {
    const dir = tempDir();
    expect(() => writeVerlDataset(join(dir, "e.parquet"), [])).toThrow(/empty/);
    expect(() => writeVerlDataset(join(dir, "e.txt"), [row(1)])).toThrow(/unknown dataset format/);
  });
});
