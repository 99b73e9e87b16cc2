// `rlvr init`: a model directory with random weights made from a Hugging Face config.json alone,
// so that the paper-scale path (Qwen2.5-Math-1.5B's exact shapes) can be run and timed without
// downloading the real weights. The tokenizer covers the whole vocabulary (syntheticTokenizer).
import { readFile } from "node:fs/promises";

import { expectedTensorShapes, parseModelConfig, saveCheckpoint, type ModelConfig, type StorageDtype, type TensorData } from "@rlvr/model";
import { Rng } from "@rlvr/mathworld";

import { syntheticTokenizer } from "./syntheticTokenizer.js";

export interface InitOptions {
  /** The config.json to build the model from. */
  config: string;
  out: string;
  seed: number;
  /** Storage dtype (default: the config's torch_dtype). */
  dtype?: StorageDtype;
  /** A model directory whose tokenizer files to copy instead of the synthetic tokenizer. */
  tokenizer?: string;
  /** Replace an existing directory at `out`. */
  overwrite?: boolean;
  onTensor?: (name: string, done: number, total: number) => void;
}

export interface InitResult {
  config: ModelConfig;
  parameters: number;
  tokenizer: string;
}

async function readConfig(path: string): Promise<{ raw: Record<string, unknown>; config: ModelConfig }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`--config ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${path}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`--config ${path}: expected a JSON object (a Hugging Face config.json)`);
  return { raw: raw as Record<string, unknown>, config: parseModelConfig(raw, path) };
}

/**
 * Random weights as transformers initializes a fresh model: normal(0, initializer_range) for every
 * matrix (embeddings included), 1 for RMSNorm weights, 0 for biases. Seeded: same seed, same bytes.
 */
export function randomWeights(config: ModelConfig, raw: Record<string, unknown>, seed: number, onTensor?: InitOptions["onTensor"]): Map<string, TensorData> {
  const std = typeof raw.initializer_range === "number" && raw.initializer_range > 0 ? raw.initializer_range : 0.02;
  const shapes = [...expectedTensorShapes(config)];
  const out = new Map<string, TensorData>();
  shapes.forEach(([name, shape], i) => {
    const r = new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0); // one stream per tensor
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith("norm.weight")) data.fill(1);
    else if (!name.endsWith(".bias")) for (let k = 0; k < n; k++) data[k] = r.normal() * std;
    out.set(name, { shape, data });
    onTensor?.(name, i + 1, shapes.length);
  });
  return out;
}

export async function initModel(o: InitOptions): Promise<InitResult> {
  const { raw, config } = await readConfig(o.config);
  const eos = config.eosTokenIds[0];
  const tok = o.tokenizer ?? syntheticTokenizer(config.vocabSize, {
    ...(eos !== undefined ? { firstSpecialId: eos } : {}), modelMaxLength: config.maxPositionEmbeddings,
  }).files;
  const weights = randomWeights(config, raw, o.seed, o.onTensor);
  await saveCheckpoint(o.out, config, weights, tok, { ...(o.dtype ? { dtype: o.dtype } : {}), baseConfig: raw, overwrite: o.overwrite ?? false });
  let parameters = 0;
  for (const t of weights.values()) parameters += t.data.length;
  return { config, parameters, tokenizer: o.tokenizer ?? `synthetic byte-level BPE, ${config.vocabSize} ids` };
}
