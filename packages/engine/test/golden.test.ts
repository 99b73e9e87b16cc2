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
 *
 * qwen3 (per-head q/k RMSNorm before RoPE, head_dim 16, heads x head_dim = 64 != hidden 32) is
 * checked on "cpu" and "ops-cpu" with the same bounds: the q/k norm adds one fp32 RMSNorm of 16
 * terms per head (relative error ~16u, far below the K <= 64 dot products above), and it renorms
 * q and k, so it shrinks rather than grows their error. Measured (x86-64, AVX-512), cpu /
 * ops-cpu: logits 7.2e-6 / 6.2e-6 (0.07 of the bound), logp 3.8e-6 / 4.3e-6, entropy 7.2e-7 /
 * 7.2e-7, loss 1.4e-7 / 4.4e-7, gradients 6.5e-6 / 8.2e-6 of each tensor's max: the same as
 * qwen2's (8.6e-6, 4.8e-6, 9.5e-7, 2.6e-7, 6.6e-6). Each run prints its errors. Setting the
 * q/k norm weights to 1 moves the logits by 6.4, so the bounds catch a skipped or misplaced norm.
 */
import { describe, expect, it } from "vitest";

import { Engine } from "../src/index.js";
import { loadGolden, maxAbs, toI32 } from "./helpers.js";

const CASES: [string, "cpu" | "ops-cpu"][] = [["qwen2", "cpu"], ["llama", "cpu"], ["qwen3", "cpu"], ["qwen3", "ops-cpu"]];

for (const [name, backend] of CASES) {
  describe(`golden ${name} (${backend})`, async () => {
    const g = await loadGolden(name);
    const x = {
      batch: g.batch, length: g.length,
      inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask!, targets: toI32(g.t.targets!),
    };
    const V = g.config.vocabSize;
    const resp = Float32Array.from(g.t.weights!, (w) => (w !== 0 ? 1 : 0));

    it("logits match on real tokens", async () => {
      const e = Engine.fromWeights(g.config, g.weights, { backend });
      const got = await e.logitsForTesting(x);
      let worst = 0, absErr = 0;
      for (let r = 0; r < g.batch * g.length; r++) {
        if (x.attentionMask[r] === 0) continue;
        for (let j = 0; j < V; j++) {
          const ref = g.t.logits![r * V + j]!;
          absErr = Math.max(absErr, Math.abs(got[r * V + j]! - ref));
          worst = Math.max(worst, Math.abs(got[r * V + j]! - ref) / (1e-4 + 1e-5 * Math.abs(ref)));
        }
      }
      console.log(`[golden ${name}/${backend}] logits err=${absErr.toExponential(2)} (${worst.toFixed(3)} of the bound)`);
      expect(worst).toBeLessThanOrEqual(1);
    });

    it("score: per-token logp and entropy at the loss temperature", async () => {
      const e = Engine.fromWeights(g.config, g.weights, { backend });
      e.setLmChunkRows(4); // several LM-head chunks
      const { logp, entropy } = await e.score({ ...x, scoreMask: resp, temperature: g.loss.temperature });
      let lpErr = 0, enErr = 0;
      for (let r = 0; r < resp.length; r++) {
        if (resp[r] === 0) {
          expect(logp[r]).toBe(0);
          continue;
        }
        lpErr = Math.max(lpErr, Math.abs(logp[r]! - g.t.logp![r]!));
        enErr = Math.max(enErr, Math.abs(entropy[r]! - g.t.entropy![r]!));
      }
      console.log(`[golden ${name}/${backend}] logp err=${lpErr.toExponential(2)} entropy err=${enErr.toExponential(2)} tol=1e-4`);
      expect(lpErr).toBeLessThanOrEqual(1e-4);
      expect(enErr).toBeLessThanOrEqual(1e-4);
    });

    it("forwardBackward: loss and every parameter gradient", async () => {
      const e = Engine.fromWeights(g.config, g.weights, { backend });
      e.setLmChunkRows(5);
      const res = await e.forwardBackward({
        ...x, ...g.loss, weights: g.t.weights!, oldLogp: g.t.old_logp!, refLogp: g.t.ref_logp!,
        advantages: g.t.advantages!,
      });
      const stats = g.t.stats!;
      const got = [res.total, res.pgLoss, res.klLoss, res.entropy];
      const lossErr = Math.max(...got.map((v, i) => Math.abs(v - stats[i]!)));
      console.log(`[golden ${name}/${backend}] loss stats err=${lossErr.toExponential(2)}`);
      for (let i = 0; i < 4; i++) expect(Math.abs(got[i]! - stats[i]!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(stats[i]!));
      expect(res.weightSum).toBeCloseTo(1, 5);
      for (let r = 0; r < resp.length; r++)
        if (resp[r] !== 0) expect(Math.abs(res.tokenLogp[r]! - g.t.logp![r]!)).toBeLessThanOrEqual(1e-4);
      expect([...g.grads.keys()].sort()).toEqual(e.parameterNames().sort());
      let worstScaled = 0;
      for (const [pname, ref] of g.grads) {
        const grad = e.gradient(pname);
        let err = 0;
        for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(grad[i]! - ref[i]!));
        const bound = 1e-4 * maxAbs(ref) + 1e-6;
        worstScaled = Math.max(worstScaled, err / maxAbs(ref));
        expect(err, `${pname}: max err ${err} vs bound ${bound}`).toBeLessThanOrEqual(bound);
      }
      console.log(`[golden ${name}/${backend}] gradients err=${worstScaled.toExponential(2)} of each tensor's max (tol 1e-4)`);
    });
  });
}
