/**
 * optimizerStep vs a float64 TypeScript reference of torch.optim.AdamW + clip_grad_norm_:
 *   norm = ||g||_2 (all parameters); c = min(1, maxGradNorm / (norm + 1e-6)); g <- c*g
 *   p <- p*(1 - lr*wd); m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2
 *   p <- p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 * Two steps (the second exercises the moments and bias correction). The engine is fp32:
 * each updated parameter is checked to |err| <= 1e-6 + 1e-5 |update| + 2^-23 |p|.
 */
import { describe, expect, it } from "vitest";

import { Engine } from "../src/index.js";
import { gaussian, paddedBatch, rng, tinyEngine } from "./helpers.js";

describe("AdamW", () => {
  it("two steps with clipping and decoupled weight decay match the reference", async () => {
    const e = tinyEngine({ tie_word_embeddings: false }, 8);
    const p = paddedBatch(e.config.vocabSize, 3, 6, 4);
    const r = rng(2);
    const n = 18;
    const weights = Float32Array.from(p.attentionMask, (m) => m / 12);
    const advantages = Float32Array.from({ length: n }, () => gaussian(r));
    const names = e.parameterNames();
    const lr = 1e-2, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
    const m = new Map(names.map((nm) => [nm, new Float64Array(e.parameter(nm).length)]));
    const v = new Map(names.map((nm) => [nm, new Float64Array(e.parameter(nm).length)]));
    for (let step = 1; step <= 2; step++) {
      const lp = (await e.score(p)).logp;
      const oldLogp = lp.map((x, i) => (p.attentionMask[i] ? x - 0.1 * step : 0));
      await e.forwardBackward({ ...p, weights, advantages, oldLogp, entropyCoeff: 0.01 });
      const before = new Map(names.map((nm) => [nm, e.parameter(nm)]));
      const grads = new Map(names.map((nm) => [nm, e.gradient(nm)]));
      let ss = 0;
      for (const g of grads.values()) for (const x of g) ss += x * x;
      const norm = Math.sqrt(ss);
      expect(e.gradNorm()).toBeCloseTo(norm, 8);
      const maxGradNorm = norm / 3; // clipping is active
      const res = await e.optimizerStep({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd, maxGradNorm });
      expect(res.step).toBe(step);
      expect(res.skipped).toBe(false);
      expect(Math.abs(res.gradNorm - norm)).toBeLessThanOrEqual(1e-6 * norm);
      expect(e.gradNorm()).toBe(0);
      const clip = Math.min(1, maxGradNorm / (norm + 1e-6));
      const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
      for (const nm of names) {
        const p0 = before.get(nm)!, g = grads.get(nm)!, mm = m.get(nm)!, vv = v.get(nm)!;
        const p1 = e.parameter(nm);
        for (let i = 0; i < p0.length; i++) {
          const gi = g[i]! * clip;
          mm[i] = b1 * mm[i]! + (1 - b1) * gi;
          vv[i] = b2 * vv[i]! + (1 - b2) * gi * gi;
          const upd = (lr / bc1) * (mm[i]! / (Math.sqrt(vv[i]!) / Math.sqrt(bc2) + eps));
          const want = p0[i]! * (1 - lr * wd) - upd;
          expect(Math.abs(p1[i]! - want), `${nm}[${i}] step ${step}`).toBeLessThanOrEqual(
            1e-6 + 1e-5 * Math.abs(upd) + 2 ** -23 * Math.abs(want),
          );
        }
      }
    }
  });

  it("a non-finite gradient norm skips the update and zeroes the gradients", async () => {
    const e = tinyEngine({}, 2);
    const name = "model.norm.weight";
    const before = e.parameter(name);
    // a huge advantage makes the gradient overflow fp32
    const p = paddedBatch(e.config.vocabSize, 1, 4, 1);
    await e.forwardBackward({
      ...p, weights: new Float32Array([1, 1, 1, 1]), advantages: new Float32Array(4).fill(3e38),
      oldLogp: new Float32Array(4).fill(-50), clipHigh: 1e30,
    });
    const res = await e.optimizerStep({ lr: 1e-3 });
    expect(Number.isFinite(res.gradNorm)).toBe(false);
    expect(res.skipped).toBe(true);
    expect(res.step).toBe(0);
    expect(e.parameter(name)).toEqual(before);
    expect(e.gradNorm()).toBe(0);
  });
});

describe("AdamW state round trip", () => {
  it("an engine restored from exported weights + optimizerState continues bit for bit", async () => {
    const a = tinyEngine({ tie_word_embeddings: false }, 5);
    const p = paddedBatch(a.config.vocabSize, 2, 5, 9);
    const weights = Float32Array.from(p.attentionMask, (m) => m / 8);
    const r = rng(4);
    const advantages = Float32Array.from({ length: 10 }, () => gaussian(r));
    const step = async (e: Engine) => {
      await e.forwardBackward({ ...p, weights, advantages, oldLogp: (await e.score(p)).logp, entropyCoeff: 0.01 });
      return await e.optimizerStep({ lr: 1e-2, weightDecay: 0.1 });
    };
    await step(a);
    await step(a);
    const b = Engine.fromWeights(a.config, a.exportWeights());
    const state = a.optimizerState();
    expect(state.step).toBe(2);
    b.loadOptimizerState(state);
    expect((await step(b)).step).toBe(3);
    expect((await step(a)).step).toBe(3);
    for (const nm of a.parameterNames()) expect(b.parameter(nm)).toEqual(a.parameter(nm));
    // without the moments the third step differs (the state carries real information)
    const c = Engine.fromWeights(a.config, a.exportWeights());
    await step(c);
    await step(a);
    expect(a.parameterNames().some((nm) => c.parameter(nm).some((x, i) => x !== a.parameter(nm)[i]))).toBe(true);
  });

  it("rejects malformed moments with typed errors", async () => {
    const e = tinyEngine({}, 1);
    const s = e.optimizerState();
    const name = e.parameterNames()[0]!;
    expect(() => e.loadOptimizerState({ step: 1, moments: new Map() })).toThrow(/missing moments/);
    const bad = new Map(s.moments);
    bad.set(name, { m: new Float32Array(1), v: new Float32Array(1) });
    expect(() => e.loadOptimizerState({ step: 1, moments: bad })).toThrow(/elements/);
    const neg = new Map(s.moments);
    const v = new Float32Array(s.moments.get(name)!.v.length).fill(-1);
    neg.set(name, { m: s.moments.get(name)!.m, v });
    expect(() => e.loadOptimizerState({ step: 1, moments: neg })).toThrow(/second moments/);
  });
});
