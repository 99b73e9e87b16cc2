// Issue #17 items 8 and 11: weights that load silently wrong. Non-finite values name the file
// and tensor; a data section with bytes no tensor covers (weights shifted by one float) is refused.
import { execFile } from "node:child_process";
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadModelDir, saveCheckpoint } from "./checkpoint.js";
import { InsufficientMemoryError, ModelFileError, NonFiniteWeightError, SafetensorsFormatError } from "./errors.js";
import { SafetensorsFile } from "./safetensors.js";
import { openModelTensors } from "./modelTensors.js";
import { loadWeights } from "./weights.js";
import { randomWeights, tempDir, tinyQwen2, tinyTokenizerFileMap } from "./testing/fixtures.js";

async function modelDir(edit?: (w: ReturnType<typeof randomWeights>) => void): Promise<string> {
  const config = tinyQwen2();
  const weights = randomWeights(config, 5);
  edit?.(weights);
  const dir = join(await tempDir(), "m");
  await saveCheckpoint(dir, config, weights, tinyTokenizerFileMap(), { dtype: "F32" });
  return dir;
}

describe("weights are checked when loaded", () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])("a %s weight names the file, the tensor and the index", async (bad) => {
    const dir = await modelDir((w) => {
      const t = w.get("model.layers.1.mlp.up_proj.weight")!;
      t.data[7] = bad;
      t.data[9] = bad;
    });
    const err = await loadModelDir(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteWeightError);
    expect((err as NonFiniteWeightError).tensor).toBe("model.layers.1.mlp.up_proj.weight");
    expect((err as Error).message).toBe(
      `${join(dir, "model.safetensors")}: tensor "model.layers.1.mlp.up_proj.weight" has 2 non-finite value(s), ` +
        `the first (${bad}) at index 7: the checkpoint is damaged or was saved after training diverged; load an earlier checkpoint`,
    );
  });

  it("loads finite weights as before", async () => {
    const m = await loadModelDir(await modelDir());
    expect(m.weights!.size).toBeGreaterThan(0);
  });

  it("bytes appended to the weights file are refused (they used to load silently)", async () => {
    const dir = await modelDir();
    await appendFile(join(dir, "model.safetensors"), Buffer.alloc(4));
    await expect(loadModelDir(dir)).rejects.toThrow(SafetensorsFormatError);
    await expect(loadModelDir(dir)).rejects.toThrow(/model\.safetensors: corrupt safetensors header: .* 4 trailing byte\(s\) belong to no tensor/);
  });

  it("a header whose offsets are shifted by one float is refused", async () => {
    const dir = await modelDir();
    const file = join(dir, "model.safetensors");
    const bytes = await readFile(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString("utf8")) as Record<string, { data_offsets?: number[] }>;
    for (const entry of Object.values(header)) if (entry.data_offsets) entry.data_offsets = entry.data_offsets.map((o) => o + 4);
    let text = JSON.stringify(header);
    text += " ".repeat((8 - (text.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    // 4 more data bytes at the end so the shifted offsets stay inside the file
    await writeFile(file, Buffer.concat([len, Buffer.from(text), bytes.subarray(8 + headerLen), Buffer.alloc(4)]));
    await expect(loadModelDir(dir)).rejects.toThrow(/bytes \[0, 4\) of the data section belong to no tensor \(a hole before the first tensor\)/);
  });

  it("weights that would not fit in the available memory are refused before the first read", async () => {
    const dir = await modelDir();
    const source = await openModelTensors(dir);
    try {
      const err = await loadWeights(source, tinyQwen2(), () => 1000).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InsufficientMemoryError);
      expect((err as Error).message).toMatch(
        new RegExp(`^${join(dir, "model.safetensors").replace(/[.\\/]/g, "\\$&")}: reading the weights as f32 needs 0\\.\\d+ GB of memory but 0\\.000 GB is available`),
      );
      expect((await loadWeights(source, tinyQwen2())).size).toBeGreaterThan(0);
    } finally {
      await source.close();
    }
  });
});

describe("model files that are not regular files", () => {
  it("config.json or a weights file that is a FIFO is refused at once, naming it (reading one waited forever)", async () => {
    const dir = await modelDir();
    for (const name of ["config.json", "model.safetensors"]) {
      const path = join(dir, name);
      await rm(path);
      await promisify(execFile)("mkfifo", [path]);
      const opened = name === "config.json" ? loadModelDir(dir) : SafetensorsFile.open(path);
      const err = await opened.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFileError);
      expect((err as Error).message).toBe(`${path}: is a FIFO (named pipe), not a regular file; a model directory holds regular files`);
    }
  });
});
