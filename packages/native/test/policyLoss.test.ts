/**
 * policyLoss (kernel (h)): stats, logp / entropy and dlogits vs policyLossRef,
 * structural identities with the separate kernels (bit for bit), and dlogits
 * against central finite differences of the float64 objective.
 *
 * Tolerances: per token, logp / H carry the forward row budget (rowBudget);
 * the loss terms add |∂term/∂logp|·Δlogp and their own fp32 roundings (see
 * termErrors). Stats are float64 sums of w·term, so their tolerance is
 * Σ|w|·(term error). dlogits use checkBackward with the upstream gl = w·∂term/∂logp
 * carrying its error (dglErr). Tokens are generated away from the PPO clip,
 * dual-clip and k3-clamp kinks (by 2% in ratio / 0.05 in k3), so branch
 * decisions and clip fractions are exact.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { type KlType, Tensor, policyLoss, tokenLogprobs, tokenLogprobsBackward } from "../src/index.js";
import { policyLossRef, tokenLogprobsRef } from "../src/reference/index.js";
import { type HalfOrF32, U, centralDiff, f32, floatValues, i32, logitsTensor } from "./helpers.js";
import { type Case, checkAgainstRef, makeCase, run, termErrors } from "./policyCase.js";

const optsArb = fc.record({
  temperature: fc.constantFrom(1, 0.6, 1.3),
  pgCoef: fc.constantFrom(1, 1, 0.5, 0),
  klCoef: fc.constantFrom(0, 0.001, 0.5),
  klType: fc.constantFrom("kl", "abs", "mse", "low_var_kl") as fc.Arbitrary<KlType>,
  entropyCoeff: fc.constantFrom(0, 0.001, 0.3, -0.1),
  clipLow: fc.constantFrom(0.2, 0.1),
  clipHigh: fc.constantFrom(0.2, 0.28),
  dualClip: fc.constantFrom(0, 3),
});

describe("policyLoss vs policyLossRef", () => {
  for (const dtype of ["f32", "bf16"] as HalfOrF32[]) {
    it(`random ${dtype} cases: stats, logp, entropy, dlogits (pgCoef incl. 0, KL on/off and all types, entropy, clip/dual)`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 6 }), // N = 0 has its own test below
          fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2040, max: 3000 })),
          fc.constantFrom(1, 5, 20),
          optsArb,
          (seed, n, v, scale, opts) => {
            const c = makeCase(seed, n, v, scale, dtype, opts);
            checkAgainstRef(c, run(c), dtype);
          },
        ),
        { numRuns: 30, seed: 0x9011 },
      );
    });
  }

  it("a long row (v = 151936, n = 2)", () => {
    const c = makeCase(4, 2, 151936, 10, "f32", {
      temperature: 0.6, pgCoef: 1, klCoef: 0.001, klType: "low_var_kl", entropyCoeff: 0.001, clipLow: 0.2, clipHigh: 0.28, dualClip: 3,
    });
    c.weights.set([0.5, 0.5]);
    checkAgainstRef(c, run(c), "f32");
  });
});

describe("policyLoss structure", () => {
  const base: Case["opts"] = { temperature: 0.8, pgCoef: 1, klCoef: 0.05, klType: "low_var_kl", entropyCoeff: 0.01, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };

  it("logp and entropy equal tokenLogprobs bit for bit", () => {
    const c = makeCase(7, 5, 700, 6, "f32", base);
    const out = run(c), fwd = tokenLogprobs(c.logits, i32(c.targets), { temperature: base.temperature });
    expect(Array.from(out.logp.toArray())).toEqual(Array.from(fwd.logp.toArray()));
    expect(Array.from(out.entropy.toArray())).toEqual(Array.from(fwd.entropy.toArray()));
  });

  it("pgCoef = 0 is entropy-only: no oldLogp/advantages needed, pg stats 0, dlogits = tokenLogprobsBackward(dentropy = −w·entC) bit for bit", () => {
    const c = makeCase(8, 4, 513, 4, "f32", { ...base, pgCoef: 0, klCoef: 0 });
    const out = run(c);
    expect(out.stats.pgLoss).toBe(0);
    expect(out.stats.clipFrac).toBe(0);
    expect(out.stats.dualClipFrac).toBe(0);
    expect(out.stats.ppoKl).toBe(0);
    expect(out.stats.klLoss).toBe(0);
    const H = out.entropy.toArray();
    let wh = 0;
    for (let i = 0; i < c.n; i++) wh += c.weights[i]! * H[i]!;
    expect(Math.abs(out.stats.entropy - wh)).toBeLessThanOrEqual(1e-12);
    // total = −entC·Σ w·H, with the per-token product −entC·H rounded to fp32
    expect(Math.abs(out.stats.total + base.entropyCoeff * wh)).toBeLessThanOrEqual(2 * U * Math.abs(base.entropyCoeff * wh) + 1e-15);
    const fwd = tokenLogprobs(c.logits, i32(c.targets), { temperature: base.temperature });
    const dent = f32(Array.from(c.weights, (w) => Math.fround(-w * Math.fround(base.entropyCoeff))));
    const alone = tokenLogprobsBackward(c.logits, i32(c.targets), fwd, { dentropy: dent }, { temperature: base.temperature });
    expect(Array.from(out.dlogits!.toArray())).toEqual(Array.from(alone.toArray()));
    checkAgainstRef(c, out, "f32");
  });

  it("KL off (klCoef 0, refLogp omitted) equals KL weighted by 0 given refLogp; KL on changes total by klCoef·klLoss", () => {
    const c = makeCase(9, 4, 300, 4, "f32", { ...base, klCoef: 0 });
    const off = run(c);
    const withRef = policyLoss(c.logits, i32(c.targets), { weights: f32(c.weights), oldLogp: f32(c.oldLogp), advantages: f32(c.advantages), refLogp: f32(c.refLogp) }, { ...base, klCoef: 0 });
    expect(off.stats).toEqual(withRef.stats);
    expect(Array.from(off.dlogits!.toArray())).toEqual(Array.from(withRef.dlogits!.toArray()));
    expect(off.stats.klLoss).toBe(0);
    for (const klType of ["kl", "abs", "mse", "low_var_kl"] as KlType[]) {
      const onCase = { ...c, opts: { ...base, klCoef: 0.5, klType } };
      const on = run(onCase);
      expect(on.stats.klLoss).not.toBe(0);
      const e = termErrors(onCase);
      let tol = 0;
      for (let i = 0; i < c.n; i++) tol += Math.abs(c.weights[i]!) * (0.5 * e.klErr[i]! + 4 * U * 20);
      expect(Math.abs(on.stats.total - off.stats.total - 0.5 * on.stats.klLoss)).toBeLessThanOrEqual(tol);
      checkAgainstRef(onCase, on, "f32");
    }
  });

  for (const dtype of ["f32", "bf16", "f16"] as HalfOrF32[]) {
    it(`inPlace (${dtype}) writes exactly the out-of-place dlogits over the logits and returns that tensor; stats identical`, () => {
      const c = makeCase(10, 4, 2100, 5, dtype, base);
      const outOfPlace = run(c);
      const copy = logitsTensor(Array.from(floatValues(c.logits)), c.n, c.v, dtype).t;
      const inPlace = run(c, { inPlace: true }, copy);
      expect(inPlace.dlogits).toBe(copy);
      expect(Array.from(copy.toArray())).toEqual(Array.from(outOfPlace.dlogits!.toArray()));
      expect(inPlace.stats).toEqual(outOfPlace.stats);
      expect(Array.from(inPlace.logp.toArray())).toEqual(Array.from(outOfPlace.logp.toArray()));
    });
  }

  it("backward: false returns no dlogits, leaves the logits untouched, and gives the same stats / logp / entropy", () => {
    const c = makeCase(11, 5, 1000, 5, "f32", base);
    const before = Array.from(c.logits.toArray());
    const fwdOnly = run(c, { backward: false });
    expect(fwdOnly.dlogits).toBeUndefined();
    expect("dlogits" in fwdOnly).toBe(false);
    expect(Array.from(c.logits.toArray())).toEqual(before);
    const full = run(c);
    expect(fwdOnly.stats).toEqual(full.stats);
    expect(Array.from(fwdOnly.logp.toArray())).toEqual(Array.from(full.logp.toArray()));
    expect(Array.from(fwdOnly.entropy.toArray())).toEqual(Array.from(full.entropy.toArray()));
  });

  it("all-zero weights: every stat 0 (fractions normalized by a zero weight sum stay 0) and dlogits all 0", () => {
    const c = makeCase(12, 3, 50, 3, "f32", base);
    c.weights.fill(0);
    const out = run(c);
    for (const k of ["total", "pgLoss", "klLoss", "entropy", "clipFrac", "dualClipFrac", "ppoKl", "weightSum"] as const) expect(out.stats[k]).toBe(0);
    expect(Array.from(out.dlogits!.toArray()).every((y) => y === 0)).toBe(true);
  });

  it("N = 0 without the policy-gradient term: zero stats and empty outputs", () => {
    const out = policyLoss(Tensor.zeros([0, 16]), Tensor.zeros([0], "i32"), { weights: f32([]) }, { pgCoef: 0, entropyCoeff: 0.1 });
    expect(out.stats.total).toBe(0);
    expect(out.stats.weightSum).toBe(0);
    expect(out.dlogits!.shape).toEqual([0, 16]);
  });

  // A zero-length typed array has a null data pointer: presence must not be read from it.
  it("N = 0 with pgCoef != 0 and empty oldLogp / advantages given: zero stats", () => {
    const out = policyLoss(Tensor.zeros([0, 16]), Tensor.zeros([0], "i32"), { weights: f32([]), oldLogp: f32([]), advantages: f32([]) });
    expect(out.stats.total).toBe(0);
    expect(out.dlogits!.shape).toEqual([0, 16]);
  });
});

describe("policyLoss dlogits vs central finite differences of policyLossRef.total", () => {
  // h = 1e-4 on logits in [-3, 3], n <= 3, v <= 9. Tokens sit >= 0.02 from every kink in log-ratio,
  // and a perturbation moves logp by <= 2h/τ < 4e-4, so the objective is smooth along each
  // difference. Truncation h²/6·|total'''| <= 2e-9·Σ_i |w_i|(|A_i|·ratio_i·8 + klC·e^{|Δ|}·8 + entC·6)/τ³;
  // float64 round-off ~1e-16·|total|/h. Native fp32: the element budget of checkBackward (<= 2e-6·scale).
  it("random small cases with every term on or off", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), optsArb, (seed, n, v, opts) => {
        const c = makeCase(seed, n, v, 3, "f32", opts);
        const out = run(c);
        const total = (y: Float64Array) =>
          policyLossRef({ logits: y, n, v, targets: c.targets, weights: c.weights, oldLogp: c.oldLogp, refLogp: c.refLogp, advantages: c.advantages, ...opts }).stats.total;
        let scaleSum = 0;
        const { logp } = tokenLogprobsRef(c.x, n, v, c.targets, opts.temperature);
        for (let i = 0; i < n; i++) {
          const ratio = Math.exp(logp[i]! - c.oldLogp[i]!), dk = Math.abs(logp[i]! - c.refLogp[i]!);
          scaleSum += Math.abs(c.weights[i]!) * (Math.abs(opts.pgCoef * c.advantages[i]!) * ratio * 8 + Math.abs(opts.klCoef) * Math.exp(dk) * 8 + Math.abs(opts.entropyCoeff) * 6);
        }
        const fdErr = (2e-9 * scaleSum) / opts.temperature ** 3 + 1e-11;
        const g = out.dlogits!.toArray();
        const analytic = policyLossRef({ logits: c.x, n, v, targets: c.targets, weights: c.weights, oldLogp: c.oldLogp, refLogp: c.refLogp, advantages: c.advantages, ...opts }).dlogits;
        for (let k = 0; k < n * v; k++) {
          const fd = centralDiff(total, c.x, k, 1e-4);
          expect(Math.abs(analytic[k]! - fd)).toBeLessThanOrEqual(fdErr);
          expect(Math.abs(g[k]! - fd)).toBeLessThanOrEqual(fdErr + 2e-6 * (scaleSum + 1e-3));
        }
        checkAgainstRef(c, out, "f32");
      }),
      { numRuns: 40, seed: 0xfd3 },
    );
  });
});
