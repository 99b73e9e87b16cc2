// Child process of threads.test.ts: runs a fixed workload of the CPU engine (score with the LM
// head in small chunks, forwardBackward on batches of several sizes, AdamW, prefill + decode)
// under this process's RLVR_NUM_THREADS and prints one FNV-1a hash of every output's bits.
import { parseModelConfig, expectedTensorShapes } from "@rlvr/model";

import { Engine } from "../../dist/index.js";

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const config = parseModelConfig({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 97, hidden_size: 48, intermediate_size: 80,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 12, hidden_act: "silu",
  rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 128, tie_word_embeddings: true, torch_dtype: "float32",
});
const weights = new Map();
for (const [name, shape] of expectedTensorShapes(config)) {
  const n = shape.reduce((a, b) => a * b, 1);
  weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (name.includes("norm") ? 1 : (rnd() * 2 - 1) * 0.3)) });
}
const e = Engine.fromWeights(config, weights);
e.setLmChunkRows(5);
let h = 0x811c9dc5;
const mix = (a) => {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193) >>> 0;
};
const batch = (b, t) => {
  const inputIds = Int32Array.from({ length: b * t }, () => Math.floor(rnd() * 97));
  const attentionMask = Float32Array.from({ length: b * t }, (_, i) => (i % t < t - (Math.floor(i / t) % 3) ? 1 : 0));
  const targets = Int32Array.from({ length: b * t }, () => Math.floor(rnd() * 97));
  return { batch: b, length: t, inputIds, attentionMask, targets };
};
for (let round = 0; round < 3; round++) {
  for (const [b, t] of [[1, 3], [3, 17], [8, 40], [2, 5], [5, 64]]) {
    const x = batch(b, t);
    const s = await e.score({ ...x, temperature: 0.7 });
    mix(s.logp);
    mix(s.entropy);
    const n = b * t, w = Float32Array.from(x.attentionMask, (m) => m / n);
    const adv = Float32Array.from({ length: n }, (_, i) => (Math.floor(i / t) % 2 ? 1 : -1));
    const r = await e.forwardBackward({ ...x, weights: w, oldLogp: s.logp, advantages: adv, temperature: 0.7 });
    mix(r.tokenLogp);
  }
  for (const name of e.parameterNames()) mix(e.gradient(name));
  await e.optimizerStep({ lr: 1e-3, maxGradNorm: 1 });
}
const p = batch(6, 9);
let logits = await e.decode.prefill({ ...p, capacity: 20 });
for (let s = 0; s < 10; s++) {
  mix(logits);
  logits = await e.decode.step(Int32Array.from({ length: 6 }, (_, i) => (s * 7 + i) % 97));
}
console.log(JSON.stringify({ threads: process.env.RLVR_NUM_THREADS, hash: h }));
