/** Bad inputs become typed errors naming the argument; nothing aborts. */
import { describe, expect, it } from "vitest";

import { TensorMismatchError } from "@rlvr/model";
import { IndexRangeError, ShapeError, ValueError } from "@rlvr/native";

import { Engine } from "../src/index.js";
import { expectErr, paddedBatch, randomWeights, tinyConfig, tinyEngine } from "./helpers.js";

describe("engine argument validation", () => {
  const e = tinyEngine();
  const V = e.config.vocabSize;
  const p = paddedBatch(V, 3, 5, 1);
  const w = Float32Array.from(p.attentionMask, (m) => m / 10);
  const lp = new Float32Array(15), adv = new Float32Array(15);

  it("token ids out of range", async () => {
    await expectErr(() => e.score({ ...p, inputIds: p.inputIds.map((x, i) => (i === 3 ? V : x)) }), IndexRangeError, "inputIds");
    await expectErr(() => e.score({ ...p, targets: p.targets.map((x, i) => (i === 0 ? -1 : x)) }), IndexRangeError, "targets");
    await e.decode.prefill({ ...p, capacity: 6 });
    await expectErr(() => e.decode.step(new Int32Array([0, V + 5, 1])), IndexRangeError, "tokens");
  });

  it("masks, shapes and values", async () => {
    await expectErr(() => e.score({ ...p, attentionMask: p.attentionMask.map(() => 2) }), ValueError, "attentionMask");
    await expectErr(() => e.score({ ...p, inputIds: p.inputIds.slice(1) }), ShapeError, "inputIds");
    await expectErr(() => e.score({ ...p, temperature: 0 }), ValueError, "temperature");
    await expectErr(() => e.score({ ...p, scoreMask: Float32Array.from(p.attentionMask, () => 1) }), ValueError, "scoreMask");
    const fb = { ...p, weights: w, oldLogp: lp, advantages: adv };
    await expectErr(() => e.forwardBackward({ ...fb, oldLogp: lp.map((x, i) => (i === 2 ? NaN : x)) }), ValueError, "oldLogp");
    await expectErr(() => e.forwardBackward({ ...fb, weights: Float32Array.from(w, () => 0.1) }), ValueError, "weights");
    await expectErr(() => e.forwardBackward({ ...fb, oldLogp: undefined }), ValueError, "oldLogp");
    await expectErr(() => e.forwardBackward({ ...fb, klCoef: 0.1 }), ValueError, "refLogp");
    await expectErr(() => e.forwardBackward({ ...fb, clipLow: 1.5 }), ValueError, "clipLow");
    await expectErr(() => e.forwardBackward({ ...fb, dualClip: 0.5 }), ValueError, "dualClip");
    await expectErr(() => e.forwardBackward({ ...fb, klType: "nope" as "kl" }), ValueError, "klType");
    await expectErr(() => e.optimizerStep({ lr: -1 }), ValueError, "lr");
    await expectErr(() => e.optimizerStep({ lr: 1e-3, beta1: 1 }), ValueError, "beta1");
  });

  it("parameters", async () => {
    await expectErr(() => e.parameter("model.nope"), ValueError, "name");
    await expectErr(() => e.setParameter("model.norm.weight", new Float32Array(3)), ShapeError, "data");
    await expectErr(() => e.setParameter("model.norm.weight", new Float32Array(16).fill(NaN)), ValueError, "data");
    const c = tinyConfig();
    const ws = randomWeights(c, 1);
    ws.delete("model.norm.weight");
    expect(() => Engine.fromWeights(c, ws)).toThrow(TensorMismatchError);
  });

  it("decode state", async () => {
    const f = tinyEngine();
    await expectErr(() => f.decode.step(new Int32Array([1, 2, 3])), ValueError, "tokens");
    await expectErr(() => f.decode.prefill({ ...p, capacity: 4 }), IndexRangeError, "capacity");
    await expectErr(() => f.decode.prefill({ ...p, attentionMask: Float32Array.from(p.attentionMask, (m, i) => (i < 5 ? 0 : m)), capacity: 6 }), ValueError, "attentionMask");
    await f.decode.prefill({ ...p, capacity: 6 });
    await expectErr(() => f.decode.step(new Int32Array([1, 2])), ShapeError, "tokens");
    await f.decode.step(new Int32Array([1, 2, 3]));
    await expectErr(() => f.decode.step(new Int32Array([1, 2, 3])), IndexRangeError, "decode");
    f.decode.reset();
    await expectErr(() => f.decode.step(new Int32Array([1, 2, 3])), ValueError, "tokens");
  });

  it("full logits are capped (tests only)", async () => {
    const big = tinyEngine({ vocab_size: 40000, hidden_size: 8, head_dim: 2 });
    const q = paddedBatch(40000, 30, 20, 2);
    await expectErr(() => big.logitsForTesting(q), ShapeError, "inputIds");
  });
});
