/**
 * grpoAdvantage (kernel (c)) and gae (kernel (g)) vs grpoAdvantageRef / gaeRef.
 * GRPO is computed in float64 and rounded once to fp32: tolerance 2u|A| plus
 * 1e-12 for the float64 arithmetic and eps's fp32 rounding. GAE runs its
 * recurrence in fp32: see the budget in checkGae.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Tensor, gae, grpoAdvantage } from "../src/index.js";
import { gaeRef, grpoAdvantageRef } from "../src/reference/index.js";
import { U, f32, rng } from "./helpers.js";

function scoresOf(seed: number, b: number, kind: "binary" | "real" | "tied"): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: b }, () => (kind === "binary" ? (r() < 0.5 ? 1 : 0) : kind === "tied" ? 0.5 : 10 * r() - 5));
}

describe("grpoAdvantage", () => {
  it("matches grpoAdvantageRef (normStd on/off, group sizes incl. 1, binary / real / tied scores)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 8 }),
        fc.boolean(),
        fc.constantFrom("binary", "real", "tied") as fc.Arbitrary<"binary" | "real" | "tied">,
        fc.constantFrom(1e-6, 0, 0.1),
        (seed, g, groups, normStd, kind, eps) => {
          const s = scoresOf(seed, g * groups, kind);
          const { advantages } = grpoAdvantage(f32(s), { groupSize: g, normStd, eps });
          const ref = grpoAdvantageRef(s, g, normStd, eps);
          const a = advantages.toArray();
          for (let i = 0; i < s.length; i++) {
            // eps = 0 on a tied group is 0/0 in the reference too: both must be NaN then
            if (Number.isNaN(ref[i]!)) {
              expect(a[i]).toBeNaN();
              continue;
            }
            // one fp32 rounding of a float64 result; eps itself is rounded to fp32 (relative u)
            expect(Math.abs(a[i]! - ref[i]!)).toBeLessThanOrEqual(2 * U * Math.abs(ref[i]!) + 1e-12);
          }
        },
      ),
      { numRuns: 60, seed: 0x6e90 },
    );
  });

  it("per-group advantages sum to zero (groupSize > 1) up to one fp32 rounding per element", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 16 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (seed, g, groups, normStd) => {
        const s = scoresOf(seed, g * groups, "real");
        const a = grpoAdvantage(f32(s), { groupSize: g, normStd }).advantages.toArray();
        for (let k = 0; k < groups; k++) {
          let sum = 0, abs = 0;
          for (let i = 0; i < g; i++) (sum += a[k * g + i]!), (abs += Math.abs(a[k * g + i]!));
          expect(Math.abs(sum)).toBeLessThanOrEqual(2 * U * abs + 1e-12);
        }
      }),
      { numRuns: 50, seed: 0x5a },
    );
  });

  it("normStd: each group of >= 2 distinct scores has unbiased std ≈ 1 (std/(std + eps))", () => {
    const s = scoresOf(8, 24, "real");
    const a = grpoAdvantage(f32(s), { groupSize: 8 }).advantages.toArray();
    for (let k = 0; k < 3; k++) {
      const xs = Array.from(a.slice(k * 8, k * 8 + 8));
      const mean = xs.reduce((p, y) => p + y, 0) / 8;
      const sd = Math.sqrt(xs.reduce((p, y) => p + (y - mean) ** 2, 0) / 7);
      expect(Math.abs(sd - 1)).toBeLessThan(1e-5);
    }
  });

  it("groupSize 1: mean 0, std 1, so A = s / (1 + eps) (normStd) or s", () => {
    const s = [0.5, -2, 1, 0];
    expect(Array.from(grpoAdvantage(f32(s), { groupSize: 1 }).advantages.toArray())).toEqual(s.map((x) => Math.fround(x / (1 + Math.fround(1e-6)))));
    expect(Array.from(grpoAdvantage(f32(s), { groupSize: 1, normStd: false }).advantages.toArray())).toEqual(s);
  });

  it("a group with identical scores gets advantage 0 with the default eps (no division blow-up)", () => {
    const a = grpoAdvantage(f32([1, 1, 1, 1, 0, 1, 0, 1]), { groupSize: 4 }).advantages.toArray();
    expect(Array.from(a.slice(0, 4))).toEqual([0, 0, 0, 0]);
    // the second group: mean 0.5, unbiased std sqrt(1/3)
    const sd = Math.sqrt(1 / 3);
    for (const [k, sign] of [[4, -1], [5, 1], [6, -1], [7, 1]] as const) expect(Math.abs(a[k]! - (sign * 0.5) / (sd + 1e-6))).toBeLessThan(4 * U);
  });

  it("token broadcast: tokenAdvantages[r, j] = A[r]·mask[r, j] exactly; zeros on padding", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 20 }), (seed, g, groups, t) => {
        const b = g * groups, r = rng(seed + 1);
        const s = scoresOf(seed, b, "real");
        const mask = Float32Array.from({ length: b * t }, () => (r() < 0.7 ? 1 : 0));
        const out = grpoAdvantage(f32(s), { groupSize: g, mask: Tensor.from(mask, [b, t]) });
        expect(out.tokenAdvantages!.shape).toEqual([b, t]);
        const a = out.advantages.toArray(), ta = out.tokenAdvantages!.toArray();
        for (let i = 0; i < b; i++) for (let j = 0; j < t; j++) expect(ta[i * t + j] === (mask[i * t + j] ? a[i] : 0)).toBe(true); // ±0 on padding
      }),
      { numRuns: 30, seed: 0x70c },
    );
  });

  it("b = 0 (no groups) returns empty advantages", () => {
    expect(grpoAdvantage(f32([]), { groupSize: 4 }).advantages.numel).toBe(0);
  });
});

/**
 * GAE budget: the fp32 recurrence A_t = δ_t + γλA_{t+1} rounds each δ and each
 * step (relative u, 3 operations), so |ΔA_t| <= 4u·Σ_{k>=t}(|r_k| + 2|V_k| + |A_k|)
 * <= 4u·S with S = Σ_row(|r| + 2|V| + |A|); returns add u|R|. After whitening
 * (A − μ)/σ the error is (|ΔA| + |Δμ|)/σ + |A_w|·Δσ/σ with |Δμ|, Δσ <= max|ΔA|, plus u|A_w|.
 */
function checkGae(rew: Float32Array, val: Float32Array, mask: Float32Array, b: number, t: number, gamma: number, lambda: number, whiten: boolean) {
  const out = gae(Tensor.from(rew, [b, t]), Tensor.from(val, [b, t]), Tensor.from(mask, [b, t]), { gamma, lambda, whiten });
  const raw = gaeRef(rew, val, mask, b, t, gamma, lambda, false);
  const ref = gaeRef(rew, val, mask, b, t, gamma, lambda, whiten);
  const adv = out.advantages.toArray(), ret = out.returns.toArray();
  let maxDA = 0;
  const dA = new Float64Array(b * t);
  for (let r = 0; r < b; r++) {
    let S = 0;
    for (let j = 0; j < t; j++) S += Math.abs(rew[r * t + j]!) + 2 * Math.abs(val[r * t + j]!) + Math.abs(raw.advantages[r * t + j]!);
    for (let j = 0; j < t; j++) dA[r * t + j] = 4 * U * S;
    maxDA = Math.max(maxDA, 4 * U * S);
  }
  let c = 0, s = 0;
  for (let k = 0; k < b * t; k++) (c += mask[k]!), (s += raw.advantages[k]! * mask[k]!);
  let ss = 0;
  for (let k = 0; k < b * t; k++) ss += (raw.advantages[k]! - s / Math.max(c, 1)) ** 2 * mask[k]!;
  const sigma = Math.sqrt((c > 1 ? ss / (c - 1) : 0) + 1e-8);
  for (let k = 0; k < b * t; k++) {
    expect(Math.abs(ret[k]! - raw.returns[k]!)).toBeLessThanOrEqual(dA[k]! + U * Math.abs(raw.returns[k]!) + 1e-30);
    const tol = whiten ? (dA[k]! + maxDA) / sigma + (Math.abs(ref.advantages[k]!) * maxDA) / sigma + 2 * U * Math.abs(ref.advantages[k]!) : dA[k]!;
    expect(Math.abs(adv[k]! - ref.advantages[k]!)).toBeLessThanOrEqual(tol + 1e-30);
    if (mask[k] === 0) {
      // ±0: whitening multiplies (A − μ)·σ⁻¹ by the mask 0, which may give −0
      expect(adv[k] === 0 && ret[k] === 0).toBe(true);
    }
  }
  return { adv, c };
}

describe("gae", () => {
  const gaeArb = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    b: fc.integer({ min: 1, max: 5 }),
    t: fc.integer({ min: 1, max: 40 }),
    gamma: fc.constantFrom(1, 0.99, 0.5, 0),
    lambda: fc.constantFrom(1, 0.95, 0),
    pad: fc.constantFrom("right", "random", "none"),
  });
  function inputs(seed: number, b: number, t: number, pad: string) {
    const r = rng(seed);
    const rew = Float32Array.from({ length: b * t }, () => (r() < 0.3 ? 4 * r() - 2 : 0));
    const val = Float32Array.from({ length: b * t }, () => 2 * r() - 1);
    const mask = new Float32Array(b * t);
    for (let i = 0; i < b; i++) {
      const len = pad === "right" ? Math.floor(r() * (t + 1)) : t;
      for (let j = 0; j < t; j++) mask[i * t + j] = j < len && (pad !== "random" || r() < 0.7) ? 1 : 0;
    }
    return { rew, val, mask };
  }

  it("matches gaeRef with and without whitening (γ, λ incl. 0 and 1; right / random padding)", () => {
    fc.assert(
      fc.property(gaeArb, fc.boolean(), ({ seed, b, t, gamma, lambda, pad }, whiten) => {
        const { rew, val, mask } = inputs(seed, b, t, pad);
        checkGae(rew, val, mask, b, t, gamma, lambda, whiten);
      }),
      { numRuns: 60, seed: 0x9ae },
    );
  });

  it("whitened advantages have masked mean ≈ 0 and masked unbiased variance ≈ 1; padding positions are 0", () => {
    fc.assert(
      fc.property(gaeArb, ({ seed, b, t, gamma, lambda, pad }) => {
        const { rew, val, mask } = inputs(seed, b, t, pad);
        // the variance can only be ≈ 1 when the raw advantages are not (nearly) constant
        const raw = gaeRef(rew, val, mask, b, t, gamma, lambda, false).advantages;
        const sel = Array.from(raw).filter((_, k) => mask[k] === 1);
        fc.pre(sel.length >= 2);
        const mu0 = sel.reduce((p, y) => p + y, 0) / sel.length;
        const var0 = sel.reduce((p, y) => p + (y - mu0) ** 2, 0) / (sel.length - 1);
        fc.pre(var0 > 1e-3);
        const { adv, c } = checkGae(rew, val, mask, b, t, gamma, lambda, true);
        let s = 0;
        for (let k = 0; k < b * t; k++) s += adv[k]! * mask[k]!;
        const mean = s / c;
        let ss = 0;
        for (let k = 0; k < b * t; k++) ss += (adv[k]! - mean) ** 2 * mask[k]!;
        // fp32 outputs: mean off by ~u·sqrt(c)·max|A_w|; variance off by the 1e-8 in rsqrt(var + 1e-8) (relative 1e-8/var0) and 2u per element
        expect(Math.abs(mean)).toBeLessThan(1e-5);
        expect(Math.abs(ss / (c - 1) - 1)).toBeLessThan(1e-5 + 1e-8 / var0);
      }),
      { numRuns: 60, seed: 0x3e },
    );
  });

  it("γ = λ = 1 without whitening: A_t = Σ_{k>=t} r_k − V_t over the mask, R = masked reward-to-go (hand-computed)", () => {
    const rew = f32([0, 0, 1, 0, 0, 2, 0, 0]), val = f32([0.5, 0.25, 0.125, 0, 1, 1, 1, 0]);
    const mask = Tensor.from(Float32Array.from([1, 1, 1, 0, 1, 0, 1, 0]), [2, 4]);
    const out = gae(rew.reshape([2, 4]), val.reshape([2, 4]), mask, { whiten: false });
    // row 0: A_2 = 1 − 0.125, A_1 = (0.125 − 0.25) + A_2, A_0 = (0.25 − 0.5) + A_1.
    // row 1: positions 1 and 3 are padding (skipped, so their reward 2 is ignored): A_2 = −1, A_0 = (1 − 1) + A_2.
    expect(Array.from(out.advantages.toArray())).toEqual([0.5, 0.75, 0.875, 0, -1, 0, -1, 0]);
    expect(Array.from(out.returns.toArray())).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
  });

  it("an all-padding batch gives all zeros (whitened or not)", () => {
    const z = Tensor.zeros([2, 3]);
    for (const whiten of [true, false]) {
      const out = gae(Tensor.from(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]), Tensor.from(Float32Array.from([1, 1, 1, 1, 1, 1]), [2, 3]), z, { whiten });
      expect(Array.from(out.advantages.toArray()).every((y) => y === 0)).toBe(true);
      expect(Array.from(out.returns.toArray()).every((y) => y === 0)).toBe(true);
    }
  });
});
