// Child process of rollout.test.ts: one native rollout on the "ops-cpu" backend under this
// process's RLVR_NUM_THREADS; prints an FNV-1a hash of its tokens, log-prob bits and finish reasons.
import { Engine } from "@rlvr/engine";
import { expectedTensorShapes, parseModelConfig } from "@rlvr/model";

let seed = 777;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const config = parseModelConfig({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 71, hidden_size: 32, intermediate_size: 40,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, hidden_act: "silu",
  rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 48, tie_word_embeddings: true, torch_dtype: "float32",
});
const weights = new Map();
for (const [name, shape] of expectedTensorShapes(config)) {
  const n = shape.reduce((a, b) => a * b, 1);
  weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (name.includes("norm") ? 1 : (rnd() * 2 - 1) * 0.6)) });
}
const e = Engine.fromWeights(config, weights, { backend: "ops-cpu" });
const prompts = [5, 9, 2, 14].map((l) => Int32Array.from({ length: l }, () => 1 + Math.floor(rnd() * 70)));
const r = await e.decode.rollout({ prompts, n: 3, temperature: 0.9, topP: 0.9, maxNewTokens: 16, eosIds: [0], seed: 5, slots: 4 });
let h = 0x811c9dc5;
const mix = (u) => {
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193) >>> 0;
};
mix(new Uint32Array(r.tokens.buffer));
mix(new Uint32Array(r.logprobs.buffer));
mix(Uint32Array.from(r.finish, (f) => f.length));
process.stdout.write(`${h}\n`);
