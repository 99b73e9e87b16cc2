// Shared helpers for the engine tests: golden fixture loading, seeded RNG, tiny configs.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "vitest";

import { SafetensorsFile, expectedTensorShapes, parseModelConfig, type ModelConfig, type TensorData } from "@rlvr/model";
import { mulberry32 as rng } from "@rlvr/testing/rng";

import { Engine } from "../src/index.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

export interface Golden {
  config: ModelConfig;
  loss: {
    temperature: number; pgCoef: number; klCoef: number; entropyCoeff: number;
    clipLow: number; clipHigh: number; dualClip: number; klType: "low_var_kl";
  };
  weights: Map<string, TensorData>;
  grads: Map<string, Float32Array>;
  t: Record<string, Float32Array>;
  batch: number;
  length: number;
}

/** A fixture of make_golden.py: weights (w.*), gradients (grad.*), other tensors, and its metadata. */
export async function loadFixture(name: string): Promise<Omit<Golden, "loss"> & { metadata: Record<string, string> }> {
  const f = await SafetensorsFile.open(join(FIXTURES, `${name}.safetensors`));
  try {
    const config = parseModelConfig(JSON.parse(f.metadata!.config!));
    const weights = new Map<string, TensorData>();
    const grads = new Map<string, Float32Array>();
    const t: Record<string, Float32Array> = {};
    for (const n of f.names()) {
      const data = await f.readFloat32(n);
      if (n.startsWith("w.")) weights.set(n.slice(2), { shape: f.info(n).shape, data });
      else if (n.startsWith("grad.")) grads.set(n.slice(5), data);
      else t[n] = data;
    }
    const [batch, length] = f.info("input_ids").shape as [number, number];
    return { config, weights, grads, t, batch, length, metadata: { ...f.metadata } as Record<string, string> };
  } finally {
    await f.close();
  }
}

export async function loadGolden(name: string): Promise<Golden> {
  const g = await loadFixture(name);
  return { ...g, loss: JSON.parse(g.metadata.loss!) as Golden["loss"] };
}

/**
 * Runs fn and checks it fails (throws, or returns a promise that rejects) with an instance of cls
 * whose `argument` is the given name.
 */
export async function expectErr(fn: () => unknown, cls: new (...a: never[]) => Error, argument: string): Promise<void> {
  let thrown: unknown = null;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected an error").toBeInstanceOf(cls);
  expect((thrown as { argument?: string }).argument).toBe(argument);
}

export const toI32 = (a: Float32Array) => Int32Array.from(a, (x) => Math.round(x));

/** The tests' seeded PRNG (mulberry32, @rlvr/testing). */
export { rng };

export function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Random weights for `config` (norm weights around 1, small biases). */
export function randomWeights(config: ModelConfig, seed: number, scale = 1): Map<string, TensorData> {
  const r = rng(seed);
  const out = new Map<string, TensorData>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith("norm.weight");
    const std = isNorm ? 0.2 : name.endsWith(".bias") ? 0.3 : name.includes("embed") || name.startsWith("lm_head") ? 0.8 : 1.2 / Math.sqrt(shape[1] ?? 1);
    for (let i = 0; i < n; i++) data[i] = (isNorm ? 1 : 0) + scale * std * gaussian(r);
    out.set(name, { shape, data });
  }
  return out;
}

export function tinyConfig(overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({
    architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 23, hidden_size: 16,
    intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4,
    hidden_act: "silu", rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 64,
    tie_word_embeddings: true, use_sliding_window: false, torch_dtype: "float32", ...overrides,
  });
}

export function tinyEngine(overrides: Record<string, unknown> = {}, seed = 1): Engine {
  const c = tinyConfig(overrides);
  return Engine.fromWeights(c, randomWeights(c, seed));
}

/** A padded batch: row 0 full, row 1 left-padded by 2, row 2 right-padded by 3 (for b >= 3). */
export function paddedBatch(vocab: number, b: number, t: number, seed: number) {
  const r = rng(seed);
  const inputIds = new Int32Array(b * t), attentionMask = new Float32Array(b * t), targets = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < t; j++) {
      const pad = (i % 3 === 1 && j < 2) || (i % 3 === 2 && j >= t - 3);
      attentionMask[i * t + j] = pad ? 0 : 1;
      inputIds[i * t + j] = pad ? 0 : 1 + Math.floor(r() * (vocab - 1));
      targets[i * t + j] = pad ? 0 : 1 + Math.floor(r() * (vocab - 1));
    }
  }
  return { batch: b, length: t, inputIds, attentionMask, targets };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
