// Test fixtures: tiny configs, seeded random weights, a byte-level BPE tokenizer and
// temp directories. Not part of the build.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { parseModelConfig, type ModelConfig } from "../config.js";
import { expectedTensorShapes, type Weights } from "../weights.js";

export const QWEN_TEMPLATE =
  "{%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export function tinyQwen2Json(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: 272,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    hidden_act: "silu",
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    rope_scaling: null,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: 64,
    torch_dtype: "bfloat16",
    bos_token_id: 256,
    eos_token_id: 256,
    ...overrides,
  };
}

/** Qwen3: q/k RMSNorm, no q/k/v bias, an explicit head_dim (4 × 8 = 32 ≠ hidden 24). */
export function tinyQwen3Json(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    vocab_size: 272,
    hidden_size: 24,
    intermediate_size: 40,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    hidden_act: "silu",
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    rope_scaling: null,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    attention_bias: false,
    use_sliding_window: false,
    sliding_window: null,
    torch_dtype: "bfloat16",
    bos_token_id: 256,
    eos_token_id: 256,
    ...overrides,
  };
}

export function tinyLlamaJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: 272,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 8,
    hidden_act: "silu",
    rms_norm_eps: 1e-5,
    rope_theta: 500000.0,
    rope_scaling: {
      rope_type: "llama3",
      factor: 8.0,
      low_freq_factor: 1.0,
      high_freq_factor: 4.0,
      original_max_position_embeddings: 32,
    },
    max_position_embeddings: 256,
    tie_word_embeddings: false,
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: "float32",
    bos_token_id: 256,
    eos_token_id: [256, 258],
    ...overrides,
  };
}

export const tinyQwen2 = (o: Record<string, unknown> = {}): ModelConfig => parseModelConfig(tinyQwen2Json(o));
export const tinyQwen3 = (o: Record<string, unknown> = {}): ModelConfig => parseModelConfig(tinyQwen3Json(o));
export const tinyLlama = (o: Record<string, unknown> = {}): ModelConfig => parseModelConfig(tinyLlamaJson(o));

/** Seeded uniform floats in [-scale, scale) (mulberry32). */
export function randomFloats(n: number, seed: number, scale = 0.5): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function randomWeights(config: ModelConfig, seed = 1): Weights {
  const weights: Weights = new Map();
  let k = 0;
  for (const [name, shape] of expectedTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.set(name, { shape, data: randomFloats(n, seed * 1000 + k++) });
  }
  return weights;
}

/** GPT-2 byte → printable character table, as byte-level BPE vocabularies use. */
function byteChars(): string[] {
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  return chars;
}

export const SPECIAL = { endoftext: 265, imStart: 266, imEnd: 267 } as const;

/** A Qwen-like byte-level BPE tokenizer: 256 byte tokens, 9 merges, 3 special tokens. */
export function tinyTokenizerFiles(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const vocab: Record<string, number> = {};
  byteChars().forEach((c, i) => (vocab[c] = i));
  const merges = [
    ["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"],
    ["Ġ", "w"], ["o", "r"], ["Ġw", "or"], ["Ġwor", "l"], ["Ġworl", "d"],
  ];
  merges.forEach(([a, b], i) => (vocab[a! + b!] = 256 + i));
  const special = (content: string, id: number) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizerJson: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [
        special("<|endoftext|>", SPECIAL.endoftext),
        special("<|im_start|>", SPECIAL.imStart),
        special("<|im_end|>", SPECIAL.imEnd),
      ],
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false, use_regex: false },
      decoder: byteLevel,
      model: {
        type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
        fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
      },
    },
    tokenizerConfig: {
      bos_token: null,
      eos_token: "<|im_end|>",
      pad_token: "<|endoftext|>",
      unk_token: null,
      model_max_length: 64,
      chat_template: QWEN_TEMPLATE,
      clean_up_tokenization_spaces: false,
    },
  };
}

/** Tokenizer files for saveCheckpoint (name → content). */
export function tinyTokenizerFileMap(): Record<string, string> {
  const { tokenizerJson, tokenizerConfig } = tinyTokenizerFiles();
  return {
    "tokenizer.json": JSON.stringify(tokenizerJson),
    "tokenizer_config.json": JSON.stringify(tokenizerConfig),
  };
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "rlvr-model-"));
  dirs.push(d);
  return d;
}
