// The tensor names and shapes a ModelConfig implies (transformers' naming), and a loader
// that checks a TensorSource against them before reading anything.
import type { ModelConfig } from "./config.js";
import { freemem } from "node:os";
import { InsufficientMemoryError, NonFiniteWeightError, TensorMismatchError, type ShapeMismatch } from "./errors.js";
import type { TensorSource } from "./safetensors.js";
import type { TensorData } from "./safetensorsWriter.js";

/** Loaded f32 weights, name → tensor. */
export type Weights = Map<string, TensorData>;

/** Tensor names present in some checkpoints that carry no weights and are skipped. */
function isIgnorable(name: string, config: ModelConfig): boolean {
  return name.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings && name === "lm_head.weight");
}

/** name → shape of every tensor the model needs, in a stable order. */
export function expectedTensorShapes(config: ModelConfig): Map<string, number[]> {
  const { hiddenSize: h, vocabSize: v, intermediateSize: m, headDim: d } = config;
  const q = config.numHeads * d;
  const kv = config.numKvHeads * d;
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [v, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.set(`${p}.input_layernorm.weight`, [h]);
    out.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    out.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    out.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    if (config.attentionBias) {
      out.set(`${p}.self_attn.q_proj.bias`, [q]);
      out.set(`${p}.self_attn.k_proj.bias`, [kv]);
      out.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    if (config.qkNorm) {
      out.set(`${p}.self_attn.q_norm.weight`, [d]);
      out.set(`${p}.self_attn.k_norm.weight`, [d]);
    }
    out.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    out.set(`${p}.post_attention_layernorm.weight`, [h]);
    out.set(`${p}.mlp.gate_proj.weight`, [m, h]);
    out.set(`${p}.mlp.up_proj.weight`, [m, h]);
    out.set(`${p}.mlp.down_proj.weight`, [h, m]);
  }
  out.set("model.norm.weight", [h]);
  if (!config.tieWordEmbeddings) out.set("lm_head.weight", [v, h]);
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Throws TensorMismatchError listing missing, unexpected and wrongly shaped tensors. */
export function checkTensorShapes(
  source: string,
  actual: ReadonlyMap<string, readonly number[]>,
  config: ModelConfig,
): void {
  const expected = expectedTensorShapes(config);
  const missing: string[] = [];
  const wrongShape: ShapeMismatch[] = [];
  for (const [name, shape] of expected) {
    const got = actual.get(name);
    if (got === undefined) missing.push(name);
    else if (!sameShape(got, shape)) wrongShape.push({ name, expected: shape, actual: got });
  }
  const unexpected = [...actual.keys()].filter((n) => !expected.has(n) && !isIgnorable(n, config));
  if (missing.length + unexpected.length + wrongShape.length > 0) {
    throw new TensorMismatchError(source, missing, unexpected, wrongShape);
  }
}

/** Checks every tensor of `source` against `config`, then reads them all as f32. */
export async function loadWeights(
  source: TensorSource,
  config: ModelConfig,
  available: () => number = freemem,
): Promise<Weights> {
  const shapes = new Map(source.names().map((n) => [n, source.info(n).shape] as const));
  checkTensorShapes(source.path, shapes, config);
  // Reading more than fits would swap the machine to a standstill: refuse before the first read.
  let bytes = 0;
  for (const shape of expectedTensorShapes(config).values()) bytes += 4 * shape.reduce((a, b) => a * b, 1);
  if (process.env.RLVR_MEMORY_CHECK !== "0" && bytes > available()) {
    throw new InsufficientMemoryError(source.path, bytes, available());
  }
  const weights: Weights = new Map();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = await source.readFloat32(name);
    checkFinite(source.info(name).file, name, data);
    weights.set(name, { shape, data });
  }
  return weights;
}

/** Throws NonFiniteWeightError (file, tensor, first bad index) when `data` holds NaN or ±Infinity. */
export function checkFinite(file: string, tensor: string, data: Float32Array): void {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity: one test per element
    if (data[i]! - data[i]! !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first >= 0) throw new NonFiniteWeightError(file, tensor, first, data[first]!, count);
}
