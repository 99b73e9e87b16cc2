/**
 * Golden tests against fixtures/make_golden.py (plain PyTorch, float64 arithmetic from
 * the stored f32 weights, so the fixtures are exact to ~1e-15 and every tolerance
 * below budgets only the engine's fp32 error).
 *
 * Error model: u = 2^-24. Each linear output is a K-term dot product (K <= 64 here)
 * with relative error <= K*u*sum|a_i b_i| / |sum a_i b_i|; two layers of attention,
 * RMSNorm and SwiGLU compound that to a few 1e-6 relative on the hidden state, and
 * the logits (|z| up to ~18) then carry ~1e-5 absolute error. Measured (x86-64,
 * AVX-512): logits 1e-5, logp 1e-5, loss 5e-7 (|total| ~ 0.04), gradients 6e-6 of each
 * tensor's max. Tolerances are set ~10-20x above the measured error and well below any real bug (a wrong RoPE pair, mask or
 * bias changes values at the 1e-2..1 level).
 *   logits:            |err| <= 1e-4 + 1e-5*|ref|
 *   logp, entropy:     |err| <= 1e-4 (at temperature 0.7, which scales logits by 1/0.7)
 *   loss stats:        |err| <= 1e-5 + 1e-4*|ref|
 *   gradients:         per tensor, max|err| <= 1e-4 * max|ref| + 1e-6 (the gradient of
 *                      a sum over tokens loses relative accuracy where terms cancel, so
 *                      the bound is relative to the tensor's scale, not per element)
 */
import { describe, expect, it } from "vitest";

import { Engine } from "../src/index.js";
import { loadGolden, maxAbs, toI32 } from "./helpers.js";

for (const name of ["qwen2", "llama"]) {
  describe(`golden ${name}`, async () => {
    const g = await loadGolden(name);
    const x = {
      batch: g.batch, length: g.length,
      inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask!, targets: toI32(g.t.targets!),
    };
    const V = g.config.vocabSize;
    const resp = Float32Array.from(g.t.weights!, (w) => (w !== 0 ? 1 : 0));

    it("logits match on real tokens", async () => {
      const e = Engine.fromWeights(g.config, g.weights);
      const got = await e.logitsForTesting(x);
      let worst = 0;
      for (let r = 0; r < g.batch * g.length; r++) {
        if (x.attentionMask[r] === 0) continue;
        for (let j = 0; j < V; j++) {
          const ref = g.t.logits![r * V + j]!;
          worst = Math.max(worst, Math.abs(got[r * V + j]! - ref) / (1e-4 + 1e-5 * Math.abs(ref)));
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    });

    it("score: per-token logp and entropy at the loss temperature", async () => {
      const e = Engine.fromWeights(g.config, g.weights);
      e.setLmChunkRows(4); // several LM-head chunks
      const { logp, entropy } = await e.score({ ...x, scoreMask: resp, temperature: g.loss.temperature });
      for (let r = 0; r < resp.length; r++) {
        if (resp[r] === 0) {
          expect(logp[r]).toBe(0);
          continue;
        }
        expect(Math.abs(logp[r]! - g.t.logp![r]!)).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(entropy[r]! - g.t.entropy![r]!)).toBeLessThanOrEqual(1e-4);
      }
    });

    it("forwardBackward: loss and every parameter gradient", async () => {
      const e = Engine.fromWeights(g.config, g.weights);
      e.setLmChunkRows(5);
      const res = await e.forwardBackward({
        ...x, ...g.loss, weights: g.t.weights!, oldLogp: g.t.old_logp!, refLogp: g.t.ref_logp!,
        advantages: g.t.advantages!,
      });
      const stats = g.t.stats!;
      const got = [res.total, res.pgLoss, res.klLoss, res.entropy];
      for (let i = 0; i < 4; i++) expect(Math.abs(got[i]! - stats[i]!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(stats[i]!));
      expect(res.weightSum).toBeCloseTo(1, 5);
      for (let r = 0; r < resp.length; r++)
        if (resp[r] !== 0) expect(Math.abs(res.tokenLogp[r]! - g.t.logp![r]!)).toBeLessThanOrEqual(1e-4);
      expect([...g.grads.keys()].sort()).toEqual(e.parameterNames().sort());
      for (const [pname, ref] of g.grads) {
        const grad = e.gradient(pname);
        let err = 0;
        for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(grad[i]! - ref[i]!));
        const bound = 1e-4 * maxAbs(ref) + 1e-6;
        expect(err, `${pname}: max err ${err} vs bound ${bound}`).toBeLessThanOrEqual(bound);
      }
    });
  });
}
