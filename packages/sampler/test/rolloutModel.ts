// A small random-weight engine on the OpsModel CPU backend ("ops-cpu") for the rollout tests.
import { Engine, type EngineBackend } from "@rlvr/engine";
import { expectedTensorShapes, parseModelConfig, type TensorData } from "@rlvr/model";
import { mulberry32 } from "@rlvr/testing/rng";

export function smallEngine(overrides: Record<string, unknown> = {}, backend: EngineBackend = "ops-cpu", seed = 3): Engine {
  const config = parseModelConfig({
    architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 61, hidden_size: 32, intermediate_size: 48,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, hidden_act: "silu",
    rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 40, tie_word_embeddings: true,
    use_sliding_window: false, torch_dtype: "float32", ...overrides,
  });
  const r = mulberry32(seed);
  const weights = new Map<string, TensorData>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith("norm.weight");
    // logits of std ~ 1.5: varied samples, yet top-p / top-k cut and EOS ids get hit
    const std = norm ? 0.1 : name.includes("embed") || name.startsWith("lm_head") ? 0.3 : 1 / Math.sqrt(shape[1] ?? 1);
    weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (norm ? 1 : 0) + std * (r() * 2 - 1) * 1.7) });
  }
  return Engine.fromWeights(config, weights, { backend });
}

/** Prompts of the given lengths, token ids from a seeded stream. */
export function prompts(lengths: readonly number[], vocab: number, seed = 5): Int32Array[] {
  const r = mulberry32(seed);
  return lengths.map((l) => Int32Array.from({ length: l }, () => 3 + Math.floor(r() * (vocab - 3))));
}
