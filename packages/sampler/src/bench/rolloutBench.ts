// Native rollout vs generate()'s JavaScript loop on one engine, in one process: the same
// samples (checked bit for bit), each path's best wall time of --reps alternating runs (the
// best, as the machine may be shared) and tokens/s.
//   pnpm --filter @rlvr/sampler build && pnpm --filter @rlvr/sampler bench [-- --backend ops-cpu]
// Random weights; EOS ids chosen so response lengths vary (where continuous batching pays).
import { Engine, type EngineBackend } from "@rlvr/engine";
import { expectedTensorShapes, parseModelConfig, type TensorData } from "@rlvr/model";

import { type GenerateOptions, type Sample, type StepModel, engineStepModel, generate } from "../index.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const backend = arg("backend", "ops-cpu") as EngineBackend;
const hidden = Number(arg("hidden", "128")), layers = Number(arg("layers", "4")), vocab = Number(arg("vocab", "1024"));
const reps = Number(arg("reps", "3"));

let seed = 1;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const config = parseModelConfig({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: vocab, hidden_size: hidden, intermediate_size: 3 * hidden,
  num_hidden_layers: layers, num_attention_heads: hidden / 32, num_key_value_heads: hidden / 64, head_dim: 32, hidden_act: "silu",
  rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 512, tie_word_embeddings: true, torch_dtype: "float32",
});
const weights = new Map<string, TensorData>();
for (const [name, shape] of expectedTensorShapes(config)) {
  const n = shape.reduce((a, b) => a * b, 1);
  const std = name.endsWith("norm.weight") ? 0 : name.includes("embed") ? 0.15 : 1.7 / Math.sqrt(shape[1] ?? 1);
  weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (name.endsWith("norm.weight") ? 1 : 0) + std * (rnd() * 2 - 1)) });
}
const engine = Engine.fromWeights(config, weights, { backend });
const promptOf = (len: number) => Int32Array.from({ length: len }, () => 3 + Math.floor(rnd() * (vocab - 3)));

const cases: { name: string; prompts: Int32Array[]; opts: GenerateOptions }[] = [
  { name: "8 prompts x 8 samples", prompts: Array.from({ length: 8 }, (_, i) => promptOf(16 + 4 * i)), opts: { n: 8, maxNewTokens: 64, eosIds: [0, 1, 2, 3, 4, 5], temperature: 1, seed: 3, maxBatch: 64 } },
  { name: "1-shot: 1 prompt x 64 samples", prompts: [promptOf(48)], opts: { n: 64, maxNewTokens: 64, eosIds: [0, 1, 2, 3, 4, 5], temperature: 1, seed: 4, maxBatch: 32 } },
];

const jsOnly = (m: StepModel): StepModel => {
  const { rollout: _, ...rest } = m;
  return rest;
};
const key = (s: Sample[]) => JSON.stringify(s.map((x) => [Array.from(x.tokens), Array.from(new Uint32Array(x.logprobs.buffer)), x.finishReason]));

console.log(`backend ${backend}, hidden ${hidden}, layers ${layers}, vocab ${vocab}, best of ${reps}, node ${process.version}`);
for (const c of cases) {
  const model = engineStepModel(engine, { maxNewTokens: c.opts.maxNewTokens });
  if (!model.rollout) throw new Error(`backend ${backend} has no native rollout`);
  await generate(model, c.prompts.slice(0, 1), { ...c.opts, n: 2, maxNewTokens: 4 }); // warm buffers
  let js: Sample[] = [], nat: Sample[] = [], tJs = Infinity, tNat = Infinity;
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    js = await generate(jsOnly(model), c.prompts, c.opts);
    tJs = Math.min(tJs, performance.now() - t0);
    t0 = performance.now();
    nat = await generate(model, c.prompts, c.opts);
    tNat = Math.min(tNat, performance.now() - t0);
  }
  const toks = js.reduce((a, s) => a + s.tokens.length, 0);
  const lens = js.map((s) => s.tokens.length);
  console.log(
    `${c.name} (slots ${c.opts.maxBatch}): ${toks} tokens, response lengths ${Math.min(...lens)}-${Math.max(...lens)}; ` +
      `JS loop ${(tJs / 1000).toFixed(2)} s (${(toks / tJs * 1000).toFixed(0)} tok/s), native ${(tNat / 1000).toFixed(2)} s ` +
      `(${(toks / tNat * 1000).toFixed(0)} tok/s), ${(tJs / tNat).toFixed(2)}x; identical: ${key(js) === key(nat)}`,
  );
}
