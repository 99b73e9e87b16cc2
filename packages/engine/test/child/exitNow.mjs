// Child process of async.test.ts: starts a long forwardBackward and, while it runs on libuv's
// thread pool, ends the process with exitNow(130). "finished" is printed only if the call
// completed first (process.exit would have waited for it).
import { parseModelConfig, expectedTensorShapes } from "@rlvr/model";
import { exitNow } from "@rlvr/native";

import { Engine } from "../../dist/index.js";

const config = parseModelConfig({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 512, hidden_size: 128, intermediate_size: 256,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, hidden_act: "silu",
  rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 256, tie_word_embeddings: true, torch_dtype: "float32",
});
const weights = new Map();
for (const [name, shape] of expectedTensorShapes(config)) {
  const n = shape.reduce((a, b) => a * b, 1);
  weights.set(name, { shape, data: Float32Array.from({ length: n }, (_, i) => (name.includes("norm") ? 1 : Math.sin(i) * 0.05)) });
}
const e = Engine.fromWeights(config, weights);
const B = 64, T = 256, n = B * T;
const inputIds = Int32Array.from({ length: n }, (_, i) => (i * 7) % 512);
const weightsRow = new Float32Array(n).fill(1 / n);
const call = e.forwardBackward({
  batch: B, length: T, inputIds, attentionMask: new Float32Array(n).fill(1), targets: inputIds,
  weights: weightsRow, oldLogp: new Float32Array(n), advantages: weightsRow,
});
process.stdout.write("started\n");
setImmediate(() => exitNow(130));
await call;
process.stdout.write("finished\n");
