/**
 * valueLoss (j), the PPO critic's clipped value loss (verl's compute_value_loss),
 * vs the float64 reference valueLossRef / valueTokenRef; hand-computed cases
 * (clip inactive, active with either term larger, ties inside and outside the
 * clip range, the range's edges to one fp32 ulp); central differences of the
 * native loss against the native dvalues; zero weights; N = 0; [b, t] inputs.
 *
 * Tolerances (u = 2^-24): the kernel computes each token in fp32,
 * lo/hi = fl(old ∓ c) (error u(|old| + c)), d = fl(v − R), e = fl(vc − R),
 * a = fl(d²), c2 = fl(e²): a carries 3u·a, c2 carries 3u·c2 + 2|e|·u(|old| + c)
 * (the rounded clip edge), and term = ½·max(a, c2) is 1-Lipschitz in both, so
 * |term − ref| <= 1.5u(a + c2) + u|e|(|old| + c); ×2 slack. The loss is the
 * fp64 sum of exact products w·term: Σ|w|·(term budget), plus 1e-14 relative
 * for the fp64 sum. dvalues = fl(w·fl(v − R)): 2u|w(v − R)|, ×2 slack.
 * Branch decisions (dvalues, clipFrac) are compared wherever v is farther
 * than 1e-5(|old| + c) from the clip edges and, outside the range, a and c2
 * differ by more than 1e-5 relative (inside it a = c2 is the exact tie the
 * kernel resolves as unclipped); inside that band dvalues must equal one of
 * the two branch values and clipFrac may differ by the band tokens' weight share.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Tensor, aggregationWeights, valueLoss } from "../src/index.js";
import { valueLossRef, valueTokenRef } from "../src/reference/index.js";
import { U, f32, rng } from "./helpers.js";

const ULP_HALF = 2 ** -24; // fp32 ulp in [0.5, 1)

/** Runs valueLoss on fp32 copies of the inputs and returns plain numbers. */
function run(v: ArrayLike<number>, old: ArrayLike<number>, ret: ArrayLike<number>, w: ArrayLike<number>, clip: number) {
  const r = valueLoss(f32(v), f32(old), f32(ret), f32(w), { clip });
  return { loss: r.loss, clipFrac: r.clipFrac, weightSum: r.weightSum, dvalues: Array.from(r.dvalues!.toArray()) };
}

describe("valueLoss", () => {
  const arb = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    n: fc.integer({ min: 1, max: 64 }),
    clip: fc.constantFrom(0.05, 0.2, 0.5, 2),
    scale: fc.constantFrom(0.1, 1, 30),
    spread: fc.constantFrom(0.5, 2, 5),
    zeroFrac: fc.constantFrom(0, 0.2, 1),
    weights: fc.constantFrom("token-mean", "random"),
  });

  it("matches valueLossRef: loss, dvalues, clipFrac, weightSum (token-mean and random weights, padding, edges, v = R)", () => {
    fc.assert(
      fc.property(arb, ({ seed, n, clip, scale, spread, zeroFrac, weights }) => {
        const r = rng(seed);
        const c = Math.fround(clip); // the kernel's clip; the reference gets the same value
        const old = Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
        const v = Float32Array.from(old, (o) => {
          const k = r();
          if (k < 0.05) return o + c; // on the upper edge (in fp32)
          if (k < 0.1) return o - c;
          return o + c * spread * (2 * r() - 1);
        });
        const ret = Float32Array.from(old, (o, i) => (r() < 0.05 ? v[i]! : o + scale * (2 * r() - 1)));
        const mask = Float32Array.from({ length: n }, () => (r() < zeroFrac ? 0 : 1));
        const w = weights === "token-mean"
          ? aggregationWeights(Tensor.from(mask, [1, n])).toArray() as Float32Array
          : Float32Array.from(mask, (m) => m * r());
        const got = run(v, old, ret, w, clip);
        const ref = valueLossRef(v, old, ret, w, c);

        let lossTol = 0, sumW = 0, sumWTerm = 0, bandW = 0;
        for (let i = 0; i < n; i++) {
          const wi = w[i]!, vi = v[i]!, oi = old[i]!, ri = ret[i]!;
          if (wi === 0) {
            expect(Object.is(got.dvalues[i], 0)).toBe(true); // padding: exactly +0
            continue;
          }
          const t = valueTokenRef(vi, oi, ri, c);
          const vc = Math.min(Math.max(vi, oi - c), oi + c);
          const a = (vi - ri) ** 2, c2 = (vc - ri) ** 2, e = Math.abs(vc - ri), edge = Math.abs(oi) + c;
          lossTol += Math.abs(wi) * 2 * U * (1.5 * (a + c2) + e * edge);
          sumW += Math.abs(wi);
          sumWTerm += Math.abs(wi * t.loss);
          const unclipped = wi * (vi - ri);
          const tolD = 4 * U * Math.abs(unclipped);
          // kinks: the clip edges, and a = c outside the range (inside it a = c always: a plain tie)
          const nearEdge = Math.abs(vi - (oi - c)) <= 1e-5 * edge || Math.abs(vi - (oi + c)) <= 1e-5 * edge;
          const near = nearEdge || (vc !== vi && Math.abs(a - c2) <= 1e-5 * (a + c2));
          if (!near) {
            expect(Math.abs(got.dvalues[i]! - ref.dvalues[i]!)).toBeLessThanOrEqual(tolD);
          } else {
            bandW += Math.abs(wi);
            expect(Math.min(Math.abs(got.dvalues[i]!), Math.abs(got.dvalues[i]! - unclipped))).toBeLessThanOrEqual(tolD);
          }
        }
        expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(lossTol + 1e-14 * sumWTerm);
        expect(Math.abs(got.weightSum - ref.weightSum)).toBeLessThanOrEqual(1e-14 * sumW);
        expect(Math.abs(got.clipFrac - ref.clipFrac)).toBeLessThanOrEqual((sumW > 0 ? bandW / ref.weightSum : 0) + 1e-12);
        expect(got.clipFrac).toBeGreaterThanOrEqual(0);
        expect(got.clipFrac).toBeLessThanOrEqual(1);
        // the loss never falls below the unclipped ½·Σ w (v − R)²
        let unclippedLoss = 0;
        for (let i = 0; i < n; i++) unclippedLoss += w[i]! * 0.5 * (v[i]! - ret[i]!) ** 2;
        expect(got.loss).toBeGreaterThanOrEqual(unclippedLoss * (1 - 8 * U) - 1e-30);
      }),
      { numRuns: 80, seed: 0x7a1 },
    );
  });

  it("hand-computed tokens (clip 0.5): inactive, clipped term larger, unclipped larger outside the range, ties inside / outside / on the edge", () => {
    // token: v, old, R → vc, a = (v − R)², c = (vc − R)², term, clipped, d/dv
    const tokens: [number, number, number][] = [
      [1, 0.75, 0], //   vc = 1 (inside [0.25, 1.25]): a = c = 1, tie, term 0.5, dv 1
      [2, 0, 3], //      vc = 0.5: a = 1, c = 6.25 → clipped, term 3.125, dv 0
      [2, 0, 0], //      vc = 0.5: a = 4, c = 0.25 → unclipped although v is outside the range, term 2, dv 2
      [2, 0, 1.25], //   vc = 0.5: a = c = 0.5625 outside the range → a tie is unclipped, term 0.28125, dv 0.75
      [0.5, 0, 2], //    v on the upper edge: vc = v, a = c = 2.25, term 1.125, dv −1.5
      [-3, -1, 0], //    vc = −1.5: a = 9, c = 2.25 → unclipped, term 4.5, dv −3
      [-3, -1, -5], //   vc = −1.5: a = 4, c = 12.25 → clipped, term 6.125, dv 0
    ];
    const w = tokens.map(() => 0.125);
    const got = run(tokens.map((t) => t[0]), tokens.map((t) => t[1]), tokens.map((t) => t[2]), w, 0.5);
    // every value is dyadic, so fp32 and the fp64 sums are exact
    expect(got.dvalues).toEqual([0.125, 0, 0.25, 0.09375, -0.1875, -0.375, 0]);
    expect(got.loss).toBe(0.125 * (0.5 + 3.125 + 2 + 0.28125 + 1.125 + 4.5 + 6.125));
    expect(got.clipFrac).toBe(0.25 / 0.875);
    expect(got.weightSum).toBe(0.875);
    tokens.forEach(([v, o, r], i) => expect(valueTokenRef(v, o, r, 0.5).dvalue * 0.125).toBe(got.dvalues[i]));
  });

  it("at the clip edge v = old + c the tie is unclipped (dv = w(v − R)); one fp32 ulp outside, with R beyond, the clip takes over (dv = 0)", () => {
    // old 0, c 0.5, R 1: at the edge a = c = 0.25; one ulp above, d = −0.5 + 2^-24 is exact and a < c
    const at = run([0.5], [0], [1], [1], 0.5);
    expect(at.dvalues).toEqual([-0.5]);
    expect(at.clipFrac).toBe(0);
    expect(at.loss).toBe(0.125);
    const outside = run([0.5 + ULP_HALF], [0], [1], [1], 0.5);
    expect(outside.dvalues).toEqual([0]);
    expect(outside.clipFrac).toBe(1);
    expect(outside.loss).toBe(0.125); // ½·(vc − R)², vc = 0.5
    const inside = run([0.5 - ULP_HALF / 2], [0], [1], [1], 0.5); // vc = v: a tie
    expect(inside.dvalues).toEqual([Math.fround(0.5 - ULP_HALF / 2 - 1)]);
    expect(inside.clipFrac).toBe(0);
    // the lower edge, mirrored: v = old − c with R = −1 is a tie; one ulp below it clips
    expect(run([-0.5], [0], [-1], [1], 0.5).dvalues).toEqual([0.5]);
    const below = run([-0.5 - ULP_HALF], [0], [-1], [1], 0.5);
    expect(below.dvalues).toEqual([0]);
    expect(below.clipFrac).toBe(1);
  });

  it("v = R: zero gradient; inside the range the loss is 0, outside it the clipped term (vc − R)² / 2 is counted as clipped", () => {
    const got = run([1, 3], [1, 1], [1, 3], [0.5, 0.5], 0.5);
    expect(got.dvalues).toEqual([0, 0]);
    expect(got.loss).toBe(0.5 * 0.5 * 1.5 ** 2); // token 1: vc = 1.5, c = 2.25
    expect(got.clipFrac).toBe(0.5);
  });

  it("token-mean weights reproduce verl: ½·masked_mean(max(vf_losses1, vf_losses2)) and masked_mean(vf_losses2 > vf_losses1), on [b, t] inputs", () => {
    const b = 4, t = 9, r = rng(17), clip = 0.25;
    const mask = new Float32Array(b * t);
    for (let i = 0; i < b; i++) mask.fill(1, i * t, i * t + 1 + Math.floor(r() * t));
    const old = Float32Array.from({ length: b * t }, () => 2 * r() - 1);
    const v = Float32Array.from(old, (o) => o + 0.6 * (2 * r() - 1));
    const ret = Float32Array.from(old, (o) => o + 2 * r() - 1);
    const T = (x: Float32Array) => Tensor.from(x, [b, t]);
    const w = aggregationWeights(T(mask), "token-mean");
    const got = valueLoss(T(v), T(old), T(ret), w, { clip });
    expect(got.dvalues!.shape).toEqual([b, t]);
    // verl, written out in float64
    let num = 0, clipped = 0, count = 0;
    for (let k = 0; k < b * t; k++) {
      if (!mask[k]) continue;
      const vc = Math.min(Math.max(v[k]!, old[k]! - Math.fround(clip)), old[k]! + Math.fround(clip));
      const l1 = (v[k]! - ret[k]!) ** 2, l2 = (vc - ret[k]!) ** 2;
      num += Math.max(l1, l2);
      clipped += Number(l2 > l1);
      count++;
    }
    expect(Math.abs(got.loss - (0.5 * num) / count)).toBeLessThanOrEqual(1e-6 * got.loss);
    expect(Math.abs(got.clipFrac - clipped / count)).toBeLessThanOrEqual(1e-7);
    expect(Math.abs(got.weightSum - 1)).toBeLessThanOrEqual(b * t * 2 * U);
    const dv = got.dvalues!.toArray();
    for (let k = 0; k < b * t; k++) if (!mask[k]) expect(Object.is(dv[k], 0)).toBe(true);
  });

  // Values, old values and returns on a 2^-6 grid in [−4, 4] and clips that are multiples of
  // 2^-6: every fp32 operation of the kernel is exact (differences need <= 10 bits, squares
  // <= 20), so each token's term is the exact piecewise quadratic and w·term is exact in fp64.
  // With h = 2^-6 (v ± h stays on the grid) a central difference of a quadratic is exact, so
  // wherever [v − h, v + h] lies on one piece (the same side of both clip edges and the same
  // branch at v − h, v, v + h) FD equals w(v − R) or 0 up to the fp64 sums (1e-10) and the one
  // rounding of dvalues = fl(w·(v − R)) (u relative).
  it("dvalues = ∂loss/∂values by central differences of the native loss (exact grid, h = 2^-6)", () => {
    const h = 2 ** -6;
    let checked = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom(0.25, 0.5, 1),
        (seed, n, clip) => {
          const r = rng(seed);
          const grid = () => Math.round((2 * r() - 1) * 4 * 64) / 64;
          const v = Float32Array.from({ length: n }, grid), old = Float32Array.from({ length: n }, grid);
          const ret = Float32Array.from({ length: n }, grid), w = Float32Array.from({ length: n }, () => r() + 0.01);
          const base = run(v, old, ret, w, clip);
          for (let k = 0; k < n; k++) {
            const piece = (x: number) => {
              const lo = old[k]! - clip, hi = old[k]! + clip;
              const side = x < lo ? -1 : x > hi ? 1 : 0;
              return `${side}:${valueTokenRef(x, old[k]!, ret[k]!, clip).clipped}`;
            };
            const p = piece(v[k]!);
            if (piece(v[k]! - h) !== p || piece(v[k]! + h) !== p) continue;
            const at = (x: number) => {
              const y = Float32Array.from(v);
              y[k] = x;
              return run(y, old, ret, w, clip).loss;
            };
            const fd = (at(v[k]! + h) - at(v[k]! - h)) / (2 * h);
            expect(Math.abs(fd - base.dvalues[k]!)).toBeLessThanOrEqual(U * Math.abs(fd) + 1e-10);
            checked++;
          }
        },
      ),
      { numRuns: 40, seed: 0xfd },
    );
    expect(checked).toBeGreaterThan(60); // most tokens lie on one piece
  });

  it("weights zero → zero gradient: all-zero weights give loss 0, clipFrac 0, weightSum 0 and dvalues exactly +0", () => {
    const r = rng(3), n = 50;
    const x = () => Float32Array.from({ length: n }, () => 10 * (2 * r() - 1));
    const got = run(x(), x(), x(), new Float32Array(n), 0.2);
    expect(got.loss).toBe(0);
    expect(got.clipFrac).toBe(0);
    expect(got.weightSum).toBe(0);
    expect(got.dvalues.every((d) => Object.is(d, 0))).toBe(true);
  });

  it("zero weights on some tokens: their gradient is +0 and the rest is unchanged (= the kernel on the kept tokens alone)", () => {
    const r = rng(4), n = 40;
    const x = () => Float32Array.from({ length: n }, () => 3 * (2 * r() - 1));
    const v = x(), old = x(), ret = x();
    const w = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 0.05));
    const got = run(v, old, ret, w, 0.5);
    const keep = Array.from({ length: n }, (_, i) => i).filter((i) => w[i] !== 0);
    const sub = run(keep.map((i) => v[i]!), keep.map((i) => old[i]!), keep.map((i) => ret[i]!), keep.map((i) => w[i]!), 0.5);
    for (let i = 0; i < n; i++) if (w[i] === 0) expect(Object.is(got.dvalues[i], 0)).toBe(true);
    expect(keep.map((i) => got.dvalues[i])).toEqual(sub.dvalues);
    expect(got.loss).toBe(sub.loss);
    expect(got.clipFrac).toBe(sub.clipFrac);
    expect(got.weightSum).toBe(sub.weightSum);
  });

  it("N = 0: zero stats and an empty gradient", () => {
    const got = valueLoss(f32([]), f32([]), f32([]), f32([]), { clip: 0.5 });
    expect(got.loss).toBe(0);
    expect(got.clipFrac).toBe(0);
    expect(got.weightSum).toBe(0);
    expect(got.dvalues!.shape).toEqual([0]);
  });

  it("backward: false computes the same stats without dvalues; the default clip is 0.5", () => {
    const v = f32([2, -1, 0.3]), old = f32([0, 0, 0]), ret = f32([3, 1, 0.2]), w = f32([0.5, 0.25, 0.25]);
    const full = valueLoss(v, old, ret, w);
    const fwd = valueLoss(v, old, ret, w, { clip: 0.5, backward: false });
    expect(fwd.dvalues).toBeUndefined();
    expect([fwd.loss, fwd.clipFrac, fwd.weightSum]).toEqual([full.loss, full.clipFrac, full.weightSum]);
    const ref = valueLossRef([2, -1, Math.fround(0.3)], [0, 0, 0], [3, 1, Math.fround(0.2)], [0.5, 0.25, 0.25], 0.5);
    expect(full.clipFrac).toBe(ref.clipFrac);
    expect(Math.abs(full.loss - ref.loss)).toBeLessThanOrEqual(1e-7);
  });
});
