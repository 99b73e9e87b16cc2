import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModelDir, saveCheckpoint } from "./checkpoint.js";
import type { ModelConfig } from "./config.js";
import { f16ToF32, f32ToF16, roundToBf16 } from "./dtypes.js";
import { ModelConfigError, ModelFileError, TensorMismatchError, UnsupportedArchitectureError, UnsupportedDtypeError } from "./errors.js";
import { writeModelSafetensors, writeSafetensors, type TensorData } from "./safetensorsWriter.js";
import {
  SPECIAL, randomWeights, tempDir, tinyLlama, tinyLlamaJson, tinyQwen2, tinyQwen2Json, tinyQwen3, tinyTokenizerFileMap,
} from "./testing/fixtures.js";

const cases: [string, () => ModelConfig][] = [
  ["Qwen2", () => tinyQwen2()], ["Llama (llama3 RoPE)", () => tinyLlama()], ["Qwen3 (q/k norm)", () => tinyQwen3()],
];

async function errorOf(p: Promise<unknown>): Promise<Error> {
  return p.then(() => { throw new Error("expected a rejection"); }, (e: Error) => e);
}

/** A model dir with the given weights written directly (no validation), plus config and tokenizer. */
async function rawModelDir(configJson: Record<string, unknown>, tensors: Map<string, TensorData>): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "config.json"), JSON.stringify(configJson));
  for (const [name, content] of Object.entries(tinyTokenizerFileMap())) await writeFile(join(dir, name), content);
  await writeModelSafetensors(dir, tensors, { dtype: "BF16" });
  return dir;
}

describe("saveCheckpoint + loadModelDir", () => {
  it.each(cases)("%s round-trips in f32 exactly, with config, tokenizer and generation config", async (_, make) => {
    const config = make();
    const weights = randomWeights(config, 7);
    const dir = join(await tempDir(), "ckpt");
    await saveCheckpoint(dir, config, weights, tinyTokenizerFileMap(), { dtype: "F32" });
    expect((await readdir(dir)).sort()).toEqual(
      ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
    );
    const m = await loadModelDir(dir);
    expect(m.config).toEqual({ ...config, torchDtype: "float32" });
    expect(m.weights!.size).toBe(weights.size);
    for (const [name, t] of weights) {
      expect(m.weights!.get(name)!.shape).toEqual(t.shape);
      expect(m.weights!.get(name)!.data).toEqual(t.data);
    }
    expect(m.tokenizer.encode("hello world")).toEqual([259, 264]);
    expect(m.eosTokenIds.sort()).toEqual([...new Set([...config.eosTokenIds, SPECIAL.imEnd])].sort());
    const gen = JSON.parse(await readFile(join(dir, "generation_config.json"), "utf8"));
    expect(gen.bos_token_id).toBe(256);
    expect(m.tokenizer.contextLength).toBe(config.maxPositionEmbeddings);
  });

  it.each(cases)("%s round-trips bf16 (round-to-nearest-even) and f16", async (_, make) => {
    const config = make();
    const weights = randomWeights(config, 3);
    const root = await tempDir();
    await saveCheckpoint(join(root, "bf16"), config, weights, tinyTokenizerFileMap(), { dtype: "BF16" });
    await saveCheckpoint(join(root, "f16"), config, weights, tinyTokenizerFileMap(), { dtype: "F16" });
    const bf = await loadModelDir(join(root, "bf16"));
    const hf = await loadModelDir(join(root, "f16"));
    expect(bf.config.torchDtype).toBe("bfloat16");
    expect(hf.config.torchDtype).toBe("float16");
    for (const [name, t] of weights) {
      expect(bf.weights!.get(name)!.data).toEqual(t.data.map(roundToBf16));
      expect(hf.weights!.get(name)!.data).toEqual(f16ToF32(f32ToF16(t.data)));
    }
    // Saving bf16-loaded weights again as bf16 is lossless.
    await saveCheckpoint(join(root, "bf16-again"), bf.config, bf.weights!, join(root, "bf16"), {
      baseConfig: bf.rawConfig, baseGenerationConfig: bf.generationConfig!.raw,
    });
    expect(await readFile(join(root, "bf16-again", "model.safetensors"))).toEqual(await readFile(join(root, "bf16", "model.safetensors")));
    expect(await readFile(join(root, "bf16-again", "tokenizer.json"))).toEqual(await readFile(join(root, "bf16", "tokenizer.json")));
  });

  it("defaults the storage dtype to config.torchDtype and keeps unknown config fields", async () => {
    const raw = tinyQwen2Json({ max_window_layers: 21, initializer_range: 0.02 });
    const config = tinyQwen2();
    const dir = join(await tempDir(), "c");
    await saveCheckpoint(dir, config, randomWeights(config), tinyTokenizerFileMap(), { baseConfig: raw });
    const written = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(written).toMatchObject({ torch_dtype: "bfloat16", max_window_layers: 21, initializer_range: 0.02, model_type: "qwen2" });
    const header = await readFile(join(dir, "model.safetensors"));
    expect(header.toString("utf8", 8, 8 + Number(header.readBigUInt64LE(0)))).toContain('"__metadata__":{"format":"pt"}');
    expect(header.toString("utf8")).toContain('"dtype":"BF16"');
  });

  it("saves and loads sharded checkpoints", async () => {
    const config = tinyLlama();
    const weights = randomWeights(config, 5);
    const dir = join(await tempDir(), "sharded");
    await saveCheckpoint(dir, config, weights, tinyTokenizerFileMap(), { dtype: "BF16", maxShardBytes: 8192 });
    const files = (await readdir(dir)).filter((f) => f.startsWith("model"));
    expect(files).toContain("model.safetensors.index.json");
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(2);
    const m = await loadModelDir(dir);
    for (const [name, t] of weights) expect(m.weights!.get(name)!.data).toEqual(t.data.map(roundToBf16));
    const lazy = await loadModelDir(dir, { weights: false });
    expect(lazy.weights).toBeNull();
  });

  it("refuses to overwrite unless asked, and replaces atomically when asked", async () => {
    const config = tinyQwen2();
    const root = await tempDir();
    const dir = join(root, "ckpt");
    await saveCheckpoint(dir, config, randomWeights(config, 1), tinyTokenizerFileMap());
    await expect(saveCheckpoint(dir, config, randomWeights(config, 2), tinyTokenizerFileMap())).rejects.toThrow(/already exists/);
    await saveCheckpoint(dir, config, randomWeights(config, 2), tinyTokenizerFileMap(), { overwrite: true });
    const m = await loadModelDir(dir);
    expect(m.weights!.get("model.norm.weight")!.data).toEqual(randomWeights(config, 2).get("model.norm.weight")!.data.map(roundToBf16));
    expect(await readdir(root)).toEqual(["ckpt"]);
  });

  it("leaves nothing behind when a save fails midway", async () => {
    const config = tinyQwen2();
    const root = await tempDir();
    const emptyTokDir = join(root, "no-tokenizer");
    await mkdir(emptyTokDir);
    const err = await errorOf(saveCheckpoint(join(root, "ckpt"), config, randomWeights(config), emptyTokDir));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toMatch(/tokenizer\.json: file not found/);
    expect(await readdir(root)).toEqual(["no-tokenizer"]);
  });

  it("validates tensors before saving", async () => {
    const config = tinyQwen2();
    const weights = randomWeights(config);
    weights.delete("model.layers.1.self_attn.q_proj.bias");
    const root = await tempDir();
    const err = await errorOf(saveCheckpoint(join(root, "c"), config, weights, null));
    expect(err).toBeInstanceOf(TensorMismatchError);
    expect(err.message).toMatch(/missing 1 tensor\(s\): model\.layers\.1\.self_attn\.q_proj\.bias/);
    expect(await readdir(root)).toEqual([]);
  });
});

describe("loadModelDir errors", () => {
  it("lists missing, unexpected and wrongly shaped tensors together", async () => {
    const config = tinyLlama();
    const w = randomWeights(config);
    w.delete("lm_head.weight");
    w.delete("model.layers.0.mlp.up_proj.weight");
    w.set("model.layers.0.self_attn.k_proj.weight", { shape: [16, 32], data: new Float32Array(512) });
    w.set("model.layers.9.mlp.gate_proj.weight", { shape: [2], data: new Float32Array(2) });
    const err = (await errorOf(loadModelDir(await rawModelDir(tinyLlamaJson(), w)))) as TensorMismatchError;
    expect(err).toBeInstanceOf(TensorMismatchError);
    expect(err.missing.sort()).toEqual(["lm_head.weight", "model.layers.0.mlp.up_proj.weight"]);
    expect(err.unexpected).toEqual(["model.layers.9.mlp.gate_proj.weight"]);
    expect(err.wrongShape).toEqual([{ name: "model.layers.0.self_attn.k_proj.weight", expected: [8, 32], actual: [16, 32] }]);
    expect(err.message).toMatch(/model\.safetensors: tensors do not match config\.json/);
    expect(err.message).toMatch(/k_proj\.weight has shape \[16, 32\], expected \[8, 32\]/);
  });

  it("ignores rotary inv_freq buffers and a redundant lm_head when tied", async () => {
    const config = tinyQwen2();
    const w = randomWeights(config);
    w.set("model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [2], data: new Float32Array(2) });
    w.set("lm_head.weight", { shape: [272, 16], data: new Float32Array(272 * 16) });
    const m = await loadModelDir(await rawModelDir(tinyQwen2Json(), w));
    expect(m.weights!.has("lm_head.weight")).toBe(false);
  });

  it("rejects unsupported architectures and invalid configs", async () => {
    const w = randomWeights(tinyQwen2());
    const arch = await errorOf(loadModelDir(await rawModelDir(tinyQwen2Json({ architectures: ["GPT2LMHeadModel"] }), w)));
    expect(arch).toBeInstanceOf(UnsupportedArchitectureError);
    expect(arch.message).toMatch(/config\.json: .*GPT2LMHeadModel/);
    const vocab = await errorOf(loadModelDir(await rawModelDir(tinyQwen2Json({ vocab_size: 100 }), w)));
    expect(vocab).toBeInstanceOf(ModelConfigError);
    expect(vocab.message).toMatch(/"vocab_size": the tokenizer has 268 ids but vocab_size is 100/);
  });

  it("rejects unsupported tensor dtypes", async () => {
    const config = tinyQwen2();
    const dir = await rawModelDir(tinyQwen2Json(), randomWeights(config));
    // Rewrite one tensor's dtype in the header to I16 (same byte size as BF16).
    const path = join(dir, "model.safetensors");
    const bytes = await readFile(path);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.toString("utf8", 8, 8 + n));
    header["model.norm.weight"].dtype = "I16";
    const json = Buffer.from(JSON.stringify(header).padEnd(n, " "));
    expect(json.length).toBe(n);
    json.copy(bytes, 8);
    await writeFile(path, bytes);
    const err = await errorOf(loadModelDir(dir));
    expect(err).toBeInstanceOf(UnsupportedDtypeError);
    expect(err.message).toMatch(/"model\.norm\.weight" has dtype I16/);
  });

  it("reports missing directories and files", async () => {
    const root = await tempDir();
    await expect(loadModelDir(join(root, "nope"))).rejects.toThrow(/nope: model directory not found/);
    await expect(loadModelDir(root)).rejects.toThrow(/config\.json: file not found/);
    await writeFile(join(root, "config.json"), JSON.stringify(tinyQwen2Json()));
    await expect(loadModelDir(root)).rejects.toThrow(/tokenizer\.json: file not found/);
    for (const [name, content] of Object.entries(tinyTokenizerFileMap())) await writeFile(join(root, name), content);
    await expect(loadModelDir(root)).rejects.toThrow(/no weights found/);
    await writeSafetensors(join(root, "model.safetensors"), new Map());
    await expect(loadModelDir(root)).rejects.toThrow(/missing 26 tensor\(s\)/);
  });
});
