// config.json ⇄ normalized ModelConfig for Qwen2ForCausalLM, Qwen3ForCausalLM and LlamaForCausalLM.
import { z } from "zod";
import { ModelConfigError, UnsupportedArchitectureError, type ConfigIssue } from "./errors.js";

export const SUPPORTED_ARCHITECTURES = ["Qwen2ForCausalLM", "Qwen3ForCausalLM", "LlamaForCausalLM"] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export const TORCH_DTYPES = ["float32", "bfloat16", "float16"] as const;
export type TorchDtype = (typeof TORCH_DTYPES)[number];

/** Llama-3 style RoPE frequency scaling (rope_scaling.rope_type == "llama3"). */
export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (always for Qwen2, never for supported Llama configs). */
  attentionBias: boolean;
  /** Each q / k head is RMS-normed over headDim (self_attn.q_norm / k_norm) before RoPE: Qwen3. */
  qkNorm: boolean;
  torchDtype: TorchDtype;
  bosTokenId: number | null;
  /** eos_token_id of config.json as a list (may be empty). */
  eosTokenIds: number[];
}

const MODEL_TYPE: Record<Architecture, string> = {
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  LlamaForCausalLM: "llama",
};

/**
 * Largest value of each size field: far above any released model (Llama-3.1-405B has 126
 * layers, hidden 16384, intermediate 53248; vocabularies reach ~260k), and small enough that
 * the tensor list and shapes built from them stay small. num_hidden_layers 1e9 used to build
 * a 12-billion-entry tensor list (minutes, gigabytes) before any other check.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 24,
  hidden_size: 1 << 16,
  intermediate_size: 1 << 20,
  num_hidden_layers: 1 << 10,
  num_attention_heads: 1 << 10,
  num_key_value_heads: 1 << 10,
  head_dim: 1 << 12,
  max_position_embeddings: 1 << 26,
  original_max_position_embeddings: 1 << 26,
} as const;

/** Most parameters a config may describe (2^40, about 1.1 trillion). */
export const MAX_CONFIG_PARAMETERS = 2 ** 40;

const posInt = z.number().int().positive();
const sizeField = (name: keyof typeof CONFIG_LIMITS) =>
  posInt.max(CONFIG_LIMITS[name], {
    message: `must be at most ${CONFIG_LIMITS[name]} (larger than any supported model; a typo?)`,
  });
const tokenId = z.number().int().nonnegative();
const positive = z.number().positive();
const dtype = z.enum(TORCH_DTYPES).nullable().optional();
const ropeSchema = z.looseObject({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  rope_theta: positive.optional(),
  factor: positive.optional(),
  low_freq_factor: positive.optional(),
  high_freq_factor: positive.optional(),
  original_max_position_embeddings: sizeField("original_max_position_embeddings").optional(),
});

const rawConfigSchema = z.looseObject({
  architectures: z.array(z.string()).min(1),
  model_type: z.string().optional(),
  vocab_size: sizeField("vocab_size"),
  hidden_size: sizeField("hidden_size"),
  intermediate_size: sizeField("intermediate_size"),
  num_hidden_layers: sizeField("num_hidden_layers"),
  num_attention_heads: sizeField("num_attention_heads"),
  num_key_value_heads: sizeField("num_key_value_heads").nullable().optional(),
  head_dim: sizeField("head_dim").nullable().optional(),
  hidden_act: z.literal("silu").optional(),
  rms_norm_eps: positive,
  rope_theta: positive.optional(),
  rope_scaling: ropeSchema.nullable().optional(),
  rope_parameters: ropeSchema.nullable().optional(),
  max_position_embeddings: sizeField("max_position_embeddings"),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  use_sliding_window: z.boolean().optional(),
  torch_dtype: dtype,
  dtype: dtype,
  bos_token_id: tokenId.nullable().optional(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullable().optional(),
});
type RawConfig = z.infer<typeof rawConfigSchema>;

/**
 * Validates a parsed config.json object. `path` is only used in error messages.
 * Throws UnsupportedArchitectureError or ModelConfigError (naming file, field and what is allowed).
 */
export function parseModelConfig(json: unknown, path = "config.json"): ModelConfig {
  const archs = (json as { architectures?: unknown } | null)?.architectures;
  if (Array.isArray(archs) && typeof archs[0] === "string") {
    const arch = archs[0];
    if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
      throw new UnsupportedArchitectureError(path, arch, SUPPORTED_ARCHITECTURES);
    }
  }
  const parsed = rawConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelConfigError(
      path,
      parsed.error.issues.map((i) => ({
        field: i.path.length > 0 ? i.path.map(String).join(".") : "(root)",
        message: issueMessage(i.message, valueAt(json, i.path)),
      })),
    );
  }
  return normalize(parsed.data, path);
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let v = json;
  for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** zod's message with the value found; a non-finite number (1e999 parses as Infinity) gets its own wording. */
function issueMessage(message: string, value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return `must be a finite number, got ${value} (JSON numbers beyond ±1.8e308 read as ±Infinity)`;
  }
  const shown = value === undefined ? "nothing (the field is missing)" : JSON.stringify(value)?.slice(0, 80) ?? String(value);
  // zod names only the type it received ("expected number, received null"); the value says more
  return `${message.replace(/, received \w+$/, "")}, got ${shown}`;
}

function normalize(raw: RawConfig, path: string): ModelConfig {
  const architecture = raw.architectures[0] as Architecture;
  const issues: ConfigIssue[] = [];
  const numHeads = raw.num_attention_heads;
  const numKvHeads = raw.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    issues.push({
      field: "num_key_value_heads",
      message: `must divide num_attention_heads (${numHeads}), got ${numKvHeads}`,
    });
  }
  let headDim = raw.head_dim ?? 0;
  if (raw.head_dim == null) {
    if (raw.hidden_size % numHeads !== 0) {
      issues.push({
        field: "hidden_size",
        message: `must be divisible by num_attention_heads (${numHeads}) when head_dim is absent, got ${raw.hidden_size}`,
      });
    }
    headDim = Math.floor(raw.hidden_size / numHeads);
  }
  if (headDim % 2 !== 0) {
    issues.push({ field: "head_dim", message: `must be even for RoPE, got ${headDim}` });
  }
  if (raw.model_type !== undefined && raw.model_type !== MODEL_TYPE[architecture]) {
    issues.push({
      field: "model_type",
      message: `must be "${MODEL_TYPE[architecture]}" for ${architecture}, got "${raw.model_type}"`,
    });
  }
  if (architecture === "LlamaForCausalLM" || architecture === "Qwen3ForCausalLM") {
    for (const f of ["attention_bias", "mlp_bias"] as const) {
      if (raw[f] === true) issues.push({ field: f, message: `only false is supported for ${architecture}` });
    }
  }
  if (raw.use_sliding_window === true) {
    issues.push({ field: "use_sliding_window", message: "sliding-window attention is not supported; must be false" });
  }
  const ropeField = raw.rope_scaling != null ? "rope_scaling" : "rope_parameters";
  const rope = raw.rope_scaling ?? raw.rope_parameters ?? null;
  const ropeScaling = parseRopeScaling(rope, ropeField, issues);
  const ropeTheta = raw.rope_theta ?? raw.rope_parameters?.rope_theta ?? 10000;
  const thetaField = raw.rope_theta !== undefined ? "rope_theta" : "rope_parameters.rope_theta";
  if (ropeTheta < 1) {
    // theta^(-2i/d) then grows with i instead of falling: 1e-300 gave frequencies of 1e281
    issues.push({ field: thetaField, message: `must be at least 1 (models use 1e4 to 1e7), got ${ropeTheta}` });
  }
  const params = parameterCount(raw, numKvHeads, headDim, architecture === "Qwen3ForCausalLM");
  if (params > MAX_CONFIG_PARAMETERS) {
    issues.push({
      field: "(sizes)",
      message:
        `vocab_size, hidden_size, intermediate_size, num_hidden_layers and the head counts describe ` +
        `${params.toExponential(2)} parameters, more than the limit of ${MAX_CONFIG_PARAMETERS.toExponential(2)}`,
    });
  }
  if (issues.length > 0) throw new ModelConfigError(path, issues);

  const eos = raw.eos_token_id;
  const config: ModelConfig = {
    architecture,
    vocabSize: raw.vocab_size,
    hiddenSize: raw.hidden_size,
    intermediateSize: raw.intermediate_size,
    numLayers: raw.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: raw.rms_norm_eps,
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings: raw.max_position_embeddings,
    tieWordEmbeddings: raw.tie_word_embeddings ?? false,
    attentionBias: architecture === "Qwen2ForCausalLM",
    qkNorm: architecture === "Qwen3ForCausalLM",
    torchDtype: raw.torch_dtype ?? raw.dtype ?? "float32",
    bosTokenId: raw.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
  };
  // The engine takes the frequencies as f32: every one must be finite and > 0 there.
  const bad = [...ropeInvFreq(config)].find((f) => !(f > 0 && Math.fround(f) > 0 && Number.isFinite(Math.fround(f))));
  if (bad !== undefined) {
    throw new ModelConfigError(path, [
      {
        field: ropeScaling === null ? thetaField : `${thetaField} / ${ropeField}`,
        message: `gives a RoPE inverse frequency of ${bad}, outside the f32 range (0, 3.4e38); use a rope_theta of 1e4 to 1e7`,
      },
    ]);
  }
  return config;
}

/** Parameters the sizes describe, counted in floating point (before anything is allocated). */
function parameterCount(raw: RawConfig, numKvHeads: number, headDim: number, qkNorm: boolean): number {
  const h = raw.hidden_size;
  const q = raw.num_attention_heads * headDim;
  const kv = numKvHeads * headDim;
  const norms = qkNorm ? 2 * headDim : 0;
  const layer = 2 * h + q * h + 2 * kv * h + q + 2 * kv + norms + h * q + 3 * raw.intermediate_size * h;
  return 2 * raw.vocab_size * h + raw.num_hidden_layers * layer + h;
}

function parseRopeScaling(
  rope: z.infer<typeof ropeSchema> | null,
  field: string,
  issues: ConfigIssue[],
): Llama3RopeScaling | null {
  if (rope === null) return null;
  const type = rope.rope_type ?? rope.type ?? "default";
  if (type === "default") return null;
  if (type !== "llama3") {
    issues.push({
      field: `${field}.rope_type`,
      message: `unsupported RoPE scaling "${type}"; supported: "llama3" (or null/"default" for none)`,
    });
    return null;
  }
  const { factor, low_freq_factor, high_freq_factor, original_max_position_embeddings } = rope;
  const required = { factor, low_freq_factor, high_freq_factor, original_max_position_embeddings };
  for (const [k, v] of Object.entries(required)) {
    if (v === undefined) issues.push({ field: `${field}.${k}`, message: "required for llama3 RoPE scaling" });
  }
  if (
    factor === undefined ||
    low_freq_factor === undefined ||
    high_freq_factor === undefined ||
    original_max_position_embeddings === undefined
  ) {
    return null;
  }
  if (high_freq_factor <= low_freq_factor) {
    issues.push({
      field: `${field}.high_freq_factor`,
      message: `must be greater than low_freq_factor (${low_freq_factor}), got ${high_freq_factor}`,
    });
  }
  return {
    type: "llama3",
    factor,
    lowFreqFactor: low_freq_factor,
    highFreqFactor: high_freq_factor,
    originalMaxPositionEmbeddings: original_max_position_embeddings,
  };
}

/**
 * RoPE inverse frequencies (length headDim/2): theta^(-2i/headDim), with Llama-3
 * scaling applied when configured: long wavelengths are divided by `factor`, short ones
 * kept, and the band in between interpolated smoothly.
 */
export function ropeInvFreq(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const out = new Float64Array(half);
  const s = config.ropeScaling;
  for (let i = 0; i < half; i++) {
    const f = Math.pow(config.ropeTheta, -(2 * i) / config.headDim);
    if (s === null) {
      out[i] = f;
      continue;
    }
    const wavelen = (2 * Math.PI) / f;
    const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    if (wavelen < highFreqWavelen) {
      out[i] = f;
    } else if (wavelen > lowFreqWavelen) {
      out[i] = f / s.factor;
    } else {
      const smooth =
        (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = (1 - smooth) * (f / s.factor) + smooth * f;
    }
  }
  return out;
}

/**
 * The config.json object for `config` as Hugging Face transformers writes it. Fields of
 * `base` (e.g. the original config.json) that this package does not model are kept.
 */
export function modelConfigToJson(
  config: ModelConfig,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  delete out.dtype;
  delete out.rope_parameters;
  const eos = config.eosTokenIds;
  Object.assign(out, {
    architectures: [config.architecture],
    model_type: MODEL_TYPE[config.architecture],
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: "silu",
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling:
      config.ropeScaling === null
        ? null
        : {
            rope_type: "llama3",
            factor: config.ropeScaling.factor,
            low_freq_factor: config.ropeScaling.lowFreqFactor,
            high_freq_factor: config.ropeScaling.highFreqFactor,
            original_max_position_embeddings: config.ropeScaling.originalMaxPositionEmbeddings,
          },
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: config.torchDtype,
  });
  if (config.architecture === "LlamaForCausalLM") {
    out.attention_bias = false;
    out.mlp_bias = false;
  } else {
    out.use_sliding_window = false;
    if (config.architecture === "Qwen3ForCausalLM") out.attention_bias = false;
  }
  if (config.bosTokenId !== null) out.bos_token_id = config.bosTokenId;
  if (eos.length > 0) out.eos_token_id = eos.length === 1 ? eos[0] : [...eos];
  return out;
}
