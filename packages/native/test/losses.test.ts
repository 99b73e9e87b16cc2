/**
 * ppoClipLoss (d), klPenalty (e) and aggregationWeights (f) vs the float64
 * references ppoClipTokenRef / klTokenRef / aggregationWeightsRef, the clip
 * boundaries at, just below and just above 1 ± eps (and the dual clip c), the
 * low_var_kl clamp, and d/dlogp against central finite differences.
 *
 * Tolerances: the inputs are fp32, so delta = logp − old is exact or off by
 * u|delta|; ratio = expf(delta) adds <= 1 ulp: loss and dlogp carry
 * |A|·ratio·(|delta| + 3)·2u (×2 slack). Branch decisions (clipped, dual,
 * KL clamp) are compared wherever the float64 value is farther than 1e-5
 * (relative) from a kink; inside that band the loss must still match (it is
 * continuous) and dlogp must equal one of the two branch values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { type AggMode, type KlType, Tensor, aggregationWeights, klPenalty, ppoClipLoss } from "../src/index.js";
import { aggregationWeightsRef, klTokenRef, ppoClipTokenRef } from "../src/reference/index.js";
import { U, centralDiff, f32, rng, sum } from "./helpers.js";

/** The exact fp32 ratio expf(logp − old) the kernel computes, read back through ppoClipLoss with A = −1 and no clipping. */
function kernelRatio(logp: number, old: number): number {
  const r = ppoClipLoss(f32([logp]), f32([old]), f32([-1]), { clipLow: 0.999, clipHigh: 1e30 });
  return r.loss.toArray()[0]!; // loss = −A·ratio = ratio exactly
}

const ULP1 = 2 ** -23; // fp32 ulp in [1, 2)

describe("ppoClipLoss", () => {
  const arb = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    n: fc.integer({ min: 0, max: 64 }),
    clipLow: fc.constantFrom(0, 0.1, 0.2, 0.28),
    clipHigh: fc.constantFrom(0, 0.2, 0.28, 5),
    dualClip: fc.constantFrom(0, 1.5, 3, 10),
    spread: fc.constantFrom(0.05, 0.5, 3),
  });

  it("matches ppoClipTokenRef: loss, dlogp, clipped and dualClipped flags", () => {
    fc.assert(
      fc.property(arb, ({ seed, n, clipLow, clipHigh, dualClip, spread }) => {
        const r = rng(seed);
        const logp = Float32Array.from({ length: n }, () => -5 * r());
        const old = Float32Array.from(logp, (x) => x + spread * (2 * r() - 1));
        const adv = Float32Array.from({ length: n }, () => (r() < 0.1 ? 0 : 6 * r() - 3));
        const out = ppoClipLoss(f32(logp), f32(old), f32(adv), { clipLow, clipHigh, dualClip });
        const loss = out.loss.toArray(), dl = out.dlogp.toArray(), cl = out.clipped.toArray(), dc = out.dualClipped.toArray();
        for (let i = 0; i < n; i++) {
          const ref = ppoClipTokenRef(logp[i]!, old[i]!, adv[i]!, clipLow, clipHigh, dualClip);
          const delta = logp[i]! - old[i]!, ratio = Math.exp(delta);
          const tol = 4 * U * Math.abs(adv[i]!) * ratio * (Math.abs(delta) + 3) + 4 * U * Math.abs(adv[i]!) * (1 + clipHigh) * 2;
          expect(Math.abs(loss[i]! - ref.loss)).toBeLessThanOrEqual(tol);
          const nearKink = [1 - clipLow, 1 + clipHigh, dualClip].some((k) => k > 0 && Math.abs(ratio - k) <= 1e-5 * k);
          if (!nearKink) {
            expect(Math.abs(dl[i]! - ref.dlogp)).toBeLessThanOrEqual(tol);
            expect(cl[i]).toBe(Number(ref.clipped));
            expect(dc[i]).toBe(Number(ref.dualClipped));
          } else {
            const unclipped = -adv[i]! * ratio;
            expect(Math.min(Math.abs(dl[i]!), Math.abs(dl[i]! - unclipped))).toBeLessThanOrEqual(tol);
          }
          // dual clip only ever lowers the loss, to exactly −A·c, and only for A < 0
          if (dc[i]) {
            expect(adv[i]!).toBeLessThan(0);
            expect(loss[i]).toBe(Math.fround(-adv[i]! * Math.fround(dualClip)));
            expect(dl[i]).toBe(0);
          }
          // a clipped token never carries gradient
          if (cl[i]) expect(dl[i]).toBe(0);
        }
      }),
      { numRuns: 60, seed: 0xc11 },
    );
  });

  // Exactly at the boundary: read the kernel's own fp32 ratio r, then place 1 + clipHigh (or
  // 1 − clipLow, or c) exactly on it (r − 1 and 1 − r are exact in fp32). At a tie the
  // unclipped branch is active (kernels.h: "the unclipped term is active" / l2 > l1 is false).
  describe("clip boundaries at, just below and just above 1 ± eps (one fp32 ulp)", () => {
    const logpHi = -0.5, oldHi = -0.5 - Math.fround(Math.log(1.2)); // ratio ≈ 1.2
    const logpLo = -1, oldLo = -1 - Math.fround(Math.log(0.8)); // ratio ≈ 0.8

    it("upper boundary, A > 0: at 1 + eps unclipped (dlogp = −A·r); 1 + eps one ulp below the ratio clips (dlogp = 0); one ulp above does not", () => {
      const r = kernelRatio(logpHi, oldHi);
      expect(Math.abs(r - 1.2)).toBeLessThan(1e-6);
      const run = (clipHigh: number) => ppoClipLoss(f32([logpHi]), f32([oldHi]), f32([2]), { clipHigh, clipLow: 0.2 });
      const at = run(r - 1);
      expect(at.clipped.toArray()[0]).toBe(0);
      expect(at.loss.toArray()[0]).toBe(Math.fround(-2 * r));
      expect(at.dlogp.toArray()[0]).toBe(Math.fround(-2 * r));
      // 1 + eps one ulp below the ratio: the ratio is above the clip range, the clipped term wins
      const inside = run(r - 1 - ULP1);
      expect(inside.clipped.toArray()[0]).toBe(1);
      expect(inside.loss.toArray()[0]).toBe(Math.fround(-2 * (r - ULP1)));
      expect(inside.dlogp.toArray()[0]).toBe(0);
      // 1 + eps one ulp above the ratio: inside the range, unclipped
      const above = run(r - 1 + ULP1);
      expect(above.clipped.toArray()[0]).toBe(0);
      expect(above.dlogp.toArray()[0]).toBe(Math.fround(-2 * r));
    });

    it("upper boundary, A < 0: the unclipped term is the larger above 1 + eps, never clipped there", () => {
      const r = kernelRatio(logpHi, oldHi);
      for (const clipHigh of [r - 1 - ULP1, r - 1, r - 1 + ULP1]) {
        const out = ppoClipLoss(f32([logpHi]), f32([oldHi]), f32([-1.5]), { clipHigh });
        expect(out.clipped.toArray()[0]).toBe(0);
        expect(out.dlogp.toArray()[0]).toBe(Math.fround(1.5 * r));
      }
    });

    it("lower boundary, A < 0: at 1 − eps unclipped; 1 − eps one ulp above the ratio clips", () => {
      const r = kernelRatio(logpLo, oldLo);
      expect(Math.abs(r - 0.8)).toBeLessThan(1e-6);
      const ulp = 2 ** -24; // fp32 ulp in [0.5, 1)
      const run = (clipLow: number) => ppoClipLoss(f32([logpLo]), f32([oldLo]), f32([-1]), { clipLow });
      const at = run(1 - r);
      expect(at.clipped.toArray()[0]).toBe(0);
      expect(at.loss.toArray()[0]).toBe(r);
      expect(at.dlogp.toArray()[0]).toBe(r);
      const clipped = run(1 - r - ulp); // 1 − eps = r + ulp > r: the clipped term −A(1 − eps) is larger
      expect(clipped.clipped.toArray()[0]).toBe(1);
      expect(clipped.loss.toArray()[0]).toBe(Math.fround(r + ulp));
      expect(clipped.dlogp.toArray()[0]).toBe(0);
      const inside = run(1 - r + ulp);
      expect(inside.clipped.toArray()[0]).toBe(0);
      expect(inside.dlogp.toArray()[0]).toBe(r);
    });

    it("lower boundary, A > 0: below 1 − eps the unclipped term is the larger, never clipped", () => {
      const r = kernelRatio(logpLo, oldLo);
      for (const clipLow of [1 - r - 2 ** -24, 1 - r, 1 - r + 2 ** -24]) {
        const out = ppoClipLoss(f32([logpLo]), f32([oldLo]), f32([1]), { clipLow });
        expect(out.clipped.toArray()[0]).toBe(0);
        expect(out.dlogp.toArray()[0]).toBe(-r);
      }
    });

    it("eps = 0 and ratio = 1 exactly (logp = old): a tie, unclipped, dlogp = −A", () => {
      const out = ppoClipLoss(f32([-0.3, -2]), f32([-0.3, -2]), f32([1.5, -0.5]), { clipLow: 0, clipHigh: 0 });
      expect(Array.from(out.clipped.toArray())).toEqual([0, 0]);
      expect(Array.from(out.loss.toArray())).toEqual([-1.5, 0.5]);
      expect(Array.from(out.dlogp.toArray())).toEqual([-1.5, 0.5]);
    });

    it("dual clip c: at ratio = c not capped; c one ulp below the ratio caps the loss at −A·c with dlogp 0; A > 0 never dual-clipped", () => {
      const logp = -0.2, old = -0.2 - Math.fround(Math.log(3));
      const r = kernelRatio(logp, old);
      expect(Math.abs(r - 3)).toBeLessThan(4e-6);
      const ulp = 2 ** -22; // fp32 ulp in [2, 4)
      const run = (c: number, a = -1) => ppoClipLoss(f32([logp]), f32([old]), f32([a]), { dualClip: c });
      const at = run(r);
      expect(at.dualClipped.toArray()[0]).toBe(0);
      expect(at.loss.toArray()[0]).toBe(r);
      expect(at.dlogp.toArray()[0]).toBe(r);
      const capped = run(r - ulp);
      expect(capped.dualClipped.toArray()[0]).toBe(1);
      expect(capped.loss.toArray()[0]).toBe(Math.fround(r - ulp));
      expect(capped.dlogp.toArray()[0]).toBe(0);
      const below = run(r + ulp);
      expect(below.dualClipped.toArray()[0]).toBe(0);
      // A > 0 at the same ratio: clipped at 1 + eps, the dual clip never applies
      const pos = run(r - ulp, 1);
      expect(pos.dualClipped.toArray()[0]).toBe(0);
      expect(pos.clipped.toArray()[0]).toBe(1);
      expect(pos.loss.toArray()[0]).toBe(Math.fround(-1.2));
    });

    it("A = 0: loss 0, dlogp 0, no flags, at any ratio", () => {
      const out = ppoClipLoss(f32([0, -3, -1]), f32([-3, 0, -1]), f32([0, 0, 0]), { dualClip: 3 });
      expect(Array.from(out.loss.toArray()).map(Math.abs)).toEqual([0, 0, 0]);
      expect(Array.from(out.dlogp.toArray()).map(Math.abs)).toEqual([0, 0, 0]);
      expect(Array.from(out.clipped.toArray())).toEqual([0, 0, 0]);
      expect(Array.from(out.dualClipped.toArray())).toEqual([0, 0, 0]);
    });
  });

  it("dlogp = ∂loss/∂logp by central differences (h = 1e-5, away from the kinks by > 1e-3 in log-ratio)", () => {
    // FD truncation h²/6·|A|·r ~ 2e-11·|A|·r; float64 round-off 1e-16·|loss|/h ~ 1e-10
    fc.assert(
      fc.property(arb, ({ seed, n, clipLow, clipHigh, dualClip, spread }) => {
        const r = rng(seed);
        const logp = Float32Array.from({ length: n }, () => -5 * r());
        const old = Float32Array.from(logp, (x) => x + spread * (2 * r() - 1));
        const adv = Float32Array.from({ length: n }, () => 6 * r() - 3);
        const dl = ppoClipLoss(f32(logp), f32(old), f32(adv), { clipLow, clipHigh, dualClip }).dlogp.toArray();
        const h = 1e-5;
        for (let i = 0; i < n; i++) {
          const d = logp[i]! - old[i]!;
          const kinks = [Math.log(1 - clipLow), Math.log(1 + clipHigh), dualClip > 0 ? Math.log(dualClip) : NaN];
          if (kinks.some((k) => Math.abs(d - k) < 1e-3)) continue;
          const f = (x: Float64Array) => ppoClipTokenRef(x[0]!, old[i]!, adv[i]!, clipLow, clipHigh, dualClip).loss;
          const fd = centralDiff(f, Float64Array.of(logp[i]!), 0, h);
          const tol = 4 * U * Math.abs(adv[i]!) * Math.exp(d) * (Math.abs(d) + 3) + 1e-9;
          expect(Math.abs(dl[i]! - fd)).toBeLessThanOrEqual(tol);
        }
      }),
      { numRuns: 40, seed: 0xfd2 },
    );
  });
});

describe("klPenalty", () => {
  const types: KlType[] = ["kl", "abs", "mse", "low_var_kl"];

  // fp32 budget: delta = logp − ref is exact or off by u|delta|; kl: u|delta|; abs: same; mse: 3u·kl +
  // u·delta²; low_var_kl: e^{−d} + d − 1 rounds three times on terms of size e^{−d} + |d| + 1, plus
  // expf's ulp on e^{−d} and the delta error times |d kl/d delta| = |1 − e^{−d}|; its gradient 1 − e^{−d}
  // carries e^{−d}'s error (2u·e^{−d}(1 + |d|) with the delta error) and its own rounding u|1 − e^{−d}|.
  function tol(type: KlType, d: number): { kl: number; grad: number } {
    const ad = Math.abs(d), e = Math.exp(-d);
    switch (type) {
      case "kl":
        return { kl: 2 * U * ad, grad: 0 };
      case "abs":
        return { kl: 2 * U * ad, grad: 0 };
      case "mse":
        return { kl: 8 * U * d * d, grad: 2 * U * ad };
      case "low_var_kl":
        return { kl: 8 * U * (e + ad + 1) + 2 * U * ad * Math.abs(1 - e), grad: 8 * U * e * (1 + ad) + 2 * U * Math.abs(1 - e) };
    }
  }

  for (const type of types) {
    it(`${type}: matches klTokenRef (value and d/dlogp) on random tokens; low_var_kl >= 0 up to rounding`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 64 }), fc.constantFrom(0.01, 1, 4, 15), (seed, n, spread) => {
          const r = rng(seed);
          const logp = Float32Array.from({ length: n }, () => -8 * r());
          const ref = Float32Array.from(logp, (x) => (r() < 0.05 ? x : x + spread * (2 * r() - 1)));
          const out = klPenalty(f32(logp), f32(ref), type);
          const kl = out.kl.toArray(), g = out.dlogp.toArray();
          for (let i = 0; i < n; i++) {
            const d = logp[i]! - ref[i]!;
            const want = klTokenRef(logp[i]!, ref[i]!, type);
            const t = tol(type, d);
            expect(Math.abs(kl[i]! - want.kl)).toBeLessThanOrEqual(t.kl);
            // the low_var_kl clamp decision may differ from float64 only within rounding of kl = 10
            const nearClamp = type === "low_var_kl" && Math.abs(Math.exp(-d) + d - 1 - 10) < 1e-4;
            if (!nearClamp) expect(Math.abs(g[i]! - want.dlogp)).toBeLessThanOrEqual(t.grad);
            if (type === "low_var_kl") expect(kl[i]!).toBeGreaterThanOrEqual(-t.kl);
          }
        }),
        { numRuns: 30, seed: 0x1c1 },
      );
    });

    it(`${type}: d/dlogp by central differences (h = 1e-5; away from |d| = 0 for abs and the k3 clamp)`, () => {
      const r = rng(17);
      const h = 1e-5;
      for (let i = 0; i < 200; i++) {
        const logp = -6 * r(), ref = logp + 6 * (2 * r() - 1);
        const lp = Math.fround(logp), rf = Math.fround(ref), d = lp - rf;
        if (type === "abs" && Math.abs(d) < 1e-3) continue;
        if (type === "low_var_kl" && Math.abs(Math.exp(-d) + d - 1 - 10) < 1e-2) continue;
        const g = klPenalty(f32([lp]), f32([rf]), type).dlogp.toArray()[0]!;
        const fd = centralDiff((x) => klTokenRef(x[0]!, rf, type).kl, Float64Array.of(lp), 0, h);
        // FD truncation h²/6·e^{−d} <= 2e-11·e^{|d|}; round-off 1e-16·|kl|/h
        expect(Math.abs(g - fd)).toBeLessThanOrEqual(tol(type, d).grad + 2e-11 * Math.exp(Math.abs(d)) + 1e-10 * (1 + Math.abs(d)));
      }
    });
  }

  it("low_var_kl clamp: k3 > 10 gives exactly 10 with zero gradient; just below the clamp it is unclamped; never −10", () => {
    // k3(d) = e^{−d} + d − 1 = 10 at d ≈ −2.611 and d ≈ 10.99998 (bisection in float64)
    const k3 = (d: number) => Math.exp(-d) + d - 1;
    const root = (lo: number, hi: number) => {
      for (let k = 0; k < 200; k++) {
        const mid = (lo + hi) / 2;
        if (k3(mid) - 10 > 0 === k3(lo) - 10 > 0) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const lower = root(-5, 0), upper = root(0, 20);
    expect(lower).toBeCloseTo(-2.6110, 3);
    expect(upper).toBeCloseTo(10.99998, 4);
    const ds = [-3, lower * 1.001, lower * 0.999, -0.5, 0, 1e-4, 5, upper * 0.999, upper * 1.001, 20];
    const logp = ds.map((d) => Math.fround(-1 + Math.min(d, 0)));
    const ref = ds.map((d, k) => Math.fround(logp[k]! - d));
    const out = klPenalty(f32(logp), f32(ref), "low_var_kl");
    const kl = out.kl.toArray(), g = out.dlogp.toArray();
    ds.forEach((_, k) => {
      const d = Math.fround(logp[k]!) - Math.fround(ref[k]!);
      if (k3(d) > 10) {
        expect(kl[k]).toBe(10);
        expect(g[k]).toBe(0);
      } else {
        expect(Math.abs(kl[k]! - k3(d))).toBeLessThanOrEqual(tol("low_var_kl", d).kl);
        expect(Math.abs(g[k]! - (1 - Math.exp(-d)))).toBeLessThanOrEqual(tol("low_var_kl", d).grad);
        expect(kl[k]!).toBeLessThan(10);
      }
      expect(kl[k]).not.toBe(-10);
    });
    // both sides of both boundaries are really exercised
    expect(Array.from(kl).filter((y) => y === 10).length).toBe(4);
  });

  it("abs at delta = 0 has gradient 0 (sign(0)); kl has gradient 1 everywhere; mse gradient = delta", () => {
    const x = f32([-1, -2, -0.5]), y = f32([-1, -1, -1]);
    expect(Array.from(klPenalty(x, y, "abs").dlogp.toArray())).toEqual([0, -1, 1]);
    expect(Array.from(klPenalty(x, y, "kl").dlogp.toArray())).toEqual([1, 1, 1]);
    expect(Array.from(klPenalty(x, y, "mse").dlogp.toArray())).toEqual([0, -1, 0.5]);
    expect(Array.from(klPenalty(x, y, "mse").kl.toArray())).toEqual([0, 0.5, 0.125]);
  });
});

describe("aggregationWeights", () => {
  const modes: AggMode[] = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"];
  const maskArb = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    b: fc.integer({ min: 0, max: 8 }),
    t: fc.integer({ min: 0, max: 50 }),
    density: fc.constantFrom(0, 0.1, 0.7, 1),
    emptyRows: fc.boolean(),
  });
  function maskOf(seed: number, b: number, t: number, density: number, emptyRows: boolean): Float32Array {
    const r = rng(seed);
    const m = Float32Array.from({ length: b * t }, () => (r() < density ? 1 : 0));
    if (emptyRows) for (let i = 0; i < b; i += 2) m.fill(0, i * t, (i + 1) * t);
    return m;
  }

  for (const mode of modes) {
    it(`${mode}: matches aggregationWeightsRef (one fp32 rounding of 1/sum: 2u relative) and weights vanish on padding`, () => {
      fc.assert(
        fc.property(maskArb, ({ seed, b, t, density, emptyRows }) => {
          const m = maskOf(seed, b, t, density, emptyRows);
          const w = aggregationWeights(Tensor.from(m, [b, t]), mode).toArray();
          const ref = aggregationWeightsRef(m, b, t, mode);
          for (let k = 0; k < b * t; k++) {
            expect(Math.abs(w[k]! - ref[k]!)).toBeLessThanOrEqual(2 * U * ref[k]!);
            if (m[k] === 0) expect(w[k]).toBe(0);
          }
        }),
        { numRuns: 40, seed: 0xa66 },
      );
    });
  }

  it("sum of weights: 1 for token-mean, (#nonempty rows)/b for seq-mean-token-mean, (#tokens)/b for seq-mean-token-sum; 0 for an empty mask", () => {
    fc.assert(
      fc.property(maskArb, ({ seed, b, t, density, emptyRows }) => {
        const m = maskOf(seed, b, t, density, emptyRows);
        const tokens = sum(m);
        let nonempty = 0;
        for (let i = 0; i < b; i++) if (sum(m.subarray(i * t, (i + 1) * t)) > 0) nonempty++;
        const sums = Object.fromEntries(modes.map((mode) => [mode, sum(aggregationWeights(Tensor.from(m, [b, t]), mode).toArray())]));
        // each weight is one fp32 rounding (relative u) of the exact weight; the float64 sum adds ~1e-16 per term
        const tol = (x: number) => 2 * U * x + 1e-13;
        const want = { "token-mean": tokens > 0 ? 1 : 0, "seq-mean-token-mean": b > 0 ? nonempty / b : 0, "seq-mean-token-sum": b > 0 ? tokens / b : 0 };
        for (const mode of modes) expect(Math.abs(sums[mode]! - want[mode as AggMode])).toBeLessThanOrEqual(tol(want[mode as AggMode]));
      }),
      { numRuns: 60, seed: 0x5e },
    );
  });

  it("aggregation semantics: sum(w·x) is the token mean, the mean of per-row sums, the mean of per-row means", () => {
    const m = Float32Array.from([1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const x = [1, 2, 3, 100, 10, 100, 100, 100, 5, 5, 5, 5];
    const agg = (mode: AggMode) => {
      const w = aggregationWeights(Tensor.from(m, [3, 4]), mode).toArray();
      return x.reduce((p, y, k) => p + y * w[k]!, 0);
    };
    expect(agg("token-mean")).toBeCloseTo((1 + 2 + 3 + 10) / 4, 6);
    expect(agg("seq-mean-token-sum")).toBeCloseTo((6 + 10 + 0) / 3, 6);
    expect(agg("seq-mean-token-mean")).toBeCloseTo((2 + 10 + 0) / 3, 6);
  });
});
