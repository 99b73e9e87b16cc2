// Issue #17 item 14: an engine too large for the machine is refused before anything is
// allocated, naming the model and both sizes (3e9 parameters on a 23 GB machine swapped).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { parseModelConfig, saveCheckpoint } from "@rlvr/model";

// test-only helpers of @rlvr/model (a tiny byte-level tokenizer, temp dirs)
import { tempDir, tinyQwen2, tinyQwen2Json, tinyQwen3, tinyTokenizerFileMap } from "../../model/src/testing/fixtures.js";
import { Engine, EngineMemoryError, checkEngineMemory, engineHostBytes, parameterCount } from "../src/index.js";
import { randomWeights } from "./helpers.js";

// ~2.7e11 parameters (within config.json's limits): 2.2 TB of parameters and gradients, more
// than any test machine has, so the refusal does not depend on the machine
const hugeJson = tinyQwen2Json({
  vocab_size: 1_000_000, hidden_size: 16384, intermediate_size: 65536, num_hidden_layers: 64,
  num_attention_heads: 128, num_key_value_heads: 128, head_dim: 128,
});
const huge = parseModelConfig(hugeJson);

describe("engine memory is checked before allocating", () => {
  it("counts parameters as the engine lays them out", async () => {
    const config = tinyQwen2();
    const engine = Engine.fromWeights(config, randomWeights(config, 1));
    expect(parameterCount(config)).toBe(engine.numParameters);
    expect(engineHostBytes(config)).toBe(8 * engine.numParameters);
    expect(engineHostBytes(config, { backend: "cuda" })).toBe(0);
    expect(engineHostBytes(config, { includeLoadedWeights: true })).toBe(12 * engine.numParameters);
  });

  it("counts Qwen3's q_norm / k_norm parameters as the engine lays them out", () => {
    const config = tinyQwen3();
    const engine = Engine.fromWeights(config, randomWeights(config, 1));
    expect(parameterCount(config)).toBe(engine.numParameters);
    expect(parameterCount(config)).toBe(parameterCount({ ...config, qkNorm: false }) + config.numLayers * 2 * config.headDim);
  });

  it("refuses with both sizes and the model named, and lets a model that fits through", async () => {
    const config = tinyQwen2();
    const memory = { available: 1_000, total: 2_000_000 };
    const err = (() => {
      try {
        checkEngineMemory(config, {}, "/models/tiny", memory);
      } catch (e) {
        return e as EngineMemoryError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(EngineMemoryError);
    expect(err!.code).toBe("ERR_RLVR_MEMORY");
    expect(err!.neededBytes).toBe(engineHostBytes(config));
    expect(err!.message).toMatch(/^\/models\/tiny: an engine of .* parameters needs at least 0\.\d+ GB of host memory .* but 0\.000 GB of this machine's 0\.002 GB is available: use a smaller model/);
    expect(() => checkEngineMemory(config, {}, "/models/tiny", { available: 1e12, total: 1e12 })).not.toThrow();
  });

  it("Engine.fromWeights refuses a 2.7e11-parameter engine at once (no tensors are needed to find out)", async () => {
    expect(() => Engine.fromWeights(huge, new Map())).toThrow(EngineMemoryError);
    expect(() => Engine.fromWeights(huge, new Map(), { modelDir: "/m/huge" })).toThrow(/^\/m\/huge: an engine of 2\.\d+e\+11 parameters needs at least \d+\.\d GB of host memory/);
  });

  it("Engine.fromModelDir refuses before reading any weights, naming the directory", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "config.json"), JSON.stringify(hugeJson));
    for (const [name, text] of Object.entries(tinyTokenizerFileMap())) await writeFile(join(dir, name), text);
    // no weights at all: a memory error, not "no weights found", shows the check ran first
    const err = await Engine.fromModelDir(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EngineMemoryError);
    expect((err as Error).message).toContain(`${dir}: an engine of`);
    expect((err as Error).message).toContain("the f32 weights read from disk");
  });

  it("a model that fits still loads through fromModelDir", async () => {
    const config = { ...tinyQwen2(), torchDtype: "float32" as const };
    const dir = join(await tempDir(), "ckpt");
    await saveCheckpoint(dir, config, randomWeights(config, 2), tinyTokenizerFileMap());
    expect((await Engine.fromModelDir(dir)).numParameters).toBe(parameterCount(config));
  });
});
