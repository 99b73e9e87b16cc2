/**
 * Gradients across optimizer steps on the OpsModel backends. After `optimizerStep` the layers'
 * weight-matrix gradients are zero only logically: the next `forwardBackward` writes them
 * instead of adding to zeros (native/src/model/ops_model.cpp, `grads_stale_`). Held here, on
 * "ops-cpu" in both GEMM modes, to what eager zeroing gives, bit for bit:
 *  - right after a step every gradient reads as 0 (and, once asked, the grad norm is 0);
 *  - the first training pass after a step gives exactly the gradients of a fresh engine holding
 *    the stepped parameters; a second pass accumulates on top, as it does on a fresh engine;
 *  - a step with no training pass since the last one sees zero gradients (grad norm 0).
 */
import { describe, expect, it } from "vitest";

import { Engine } from "../src/index.js";

import { loadGolden, toI32 } from "./helpers.js";

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

describe.each([false, true])("ops-cpu gradients after optimizer steps (bf16Gemm %s)", (bf16Gemm) => {
  it("read as zero after a step, then equal a fresh engine's, pass after pass", async () => {
    const g = await loadGolden("qwen2");
    const fb = {
      batch: g.batch, length: g.length, inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask!,
      targets: toI32(g.t.targets!), ...g.loss, weights: g.t.weights!, oldLogp: g.t.old_logp!,
      refLogp: g.t.ref_logp!, advantages: g.t.advantages!,
    };
    const e = Engine.fromWeights(g.config, g.weights, { backend: "ops-cpu", bf16Gemm });
    const names = e.parameterNames();
    await e.forwardBackward(fb);
    expect(e.gradNorm()).toBeGreaterThan(0);
    for (let step = 1; step <= 2; step++) {
      const st = await e.optimizerStep(ADAM);
      expect([st.step, st.skipped]).toEqual([step, false]);
      // (reading gradients does not write the zeros; gradNorm() would, so it is not called here)
      for (const n of names) expect(e.gradient(n).every((x) => x === 0), `${n} after step ${step}`).toBe(true);

      // a fresh engine on the stepped parameters: its first passes are the reference
      const fresh = Engine.fromWeights(
        g.config,
        new Map(names.map((n) => [n, { shape: g.weights.get(n)!.shape, data: e.parameter(n) }])),
        { backend: "ops-cpu", bf16Gemm },
      );
      for (let pass = 1; pass <= 2; pass++) {
        const a = await e.forwardBackward(fb), b = await fresh.forwardBackward(fb);
        expect(a.total).toBe(b.total);
        for (const n of names) expect(e.gradient(n), `${n}, step ${step}, pass ${pass}`).toEqual(fresh.gradient(n));
        expect(e.gradNorm()).toBe(fresh.gradNorm());
      }
    }

    // the grad norm right after a step; a step with nothing trained since the last sees zero gradients
    await e.optimizerStep(ADAM);
    expect(e.gradNorm()).toBe(0);
    const st = await e.optimizerStep(ADAM);
    expect([st.gradNorm, st.skipped]).toEqual([0, false]);
    for (const n of names) expect(e.gradient(n).every((x) => x === 0), `${n} after an empty step`).toBe(true);
  }, 120_000);
});
