/**
 * tokenLogprobsBackward (kernel (b)): dlogits vs the float64 analytic gradient
 * (checkBackward in helpers.ts, element-wise fp32 budget), in place vs out of
 * place, dlogp-only / dentropy-only, f16 / bf16 outputs, and against central
 * finite differences of the float64 forward reference.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Tensor, tokenLogprobs, tokenLogprobsBackward } from "../src/index.js";
import { tokenLogprobsBackwardRef, tokenLogprobsRef } from "../src/reference/index.js";
import { type HalfOrF32, U, centralDiff, checkBackward, f32, floatValues, i32, logitsTensor, randomLogits, rng } from "./helpers.js";

const gradsArb = fc.constantFrom("both", "dlogp", "dentropy") as fc.Arbitrary<"both" | "dlogp" | "dentropy">;

function upstream(seed: number, n: number, which: "both" | "dlogp" | "dentropy") {
  const r = rng(seed ^ 0x9e3779b9);
  const gl = Float32Array.from({ length: n }, () => 4 * r() - 2), gh = Float32Array.from({ length: n }, () => 4 * r() - 2);
  return {
    gl: which === "dentropy" ? null : gl,
    gh: which === "dlogp" ? null : gh,
    grads: { ...(which !== "dentropy" && { dlogp: f32(gl) }), ...(which !== "dlogp" && { dentropy: f32(gh) }) },
  };
}

describe("tokenLogprobsBackward vs the float64 gradient", () => {
  for (const dtype of ["f32", "bf16", "f16"] as HalfOrF32[]) {
    it(`random ${dtype} logits, dlogp and/or dentropy, temperatures, -inf entries (fp32 element budget + ${dtype} output rounding)`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 0, max: 5 }),
          fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2040, max: 4500 })),
          fc.constantFrom(1, 10, 1e4),
          fc.constantFrom(0, 0.4),
          fc.constantFrom(1, 0.6, 2),
          gradsArb,
          (seed, n, v, scale, infFrac, temperature, which) => {
            const { values, targets } = randomLogits(seed, n, v, dtype === "f16" ? Math.min(scale, 6e4) : scale, infFrac);
            const { t, x } = logitsTensor(values, n, v, dtype);
            const fwd = tokenLogprobs(t, i32(targets), { temperature });
            const { gl, gh, grads } = upstream(seed, n, which);
            const d = tokenLogprobsBackward(t, i32(targets), fwd, grads, { temperature });
            expect(d.dtype).toBe(dtype);
            expect(d.shape).toEqual([n, v]);
            checkBackward(x, n, v, targets, temperature, gl, gh, floatValues(d), { dtype });
          },
        ),
        { numRuns: 25, seed: 0xbac },
      );
    });
  }

  it("long row (v = 151936, n = 2), f32 and bf16", () => {
    const n = 2, v = 151936;
    const { values, targets } = randomLogits(99, n, v, 15, 0.02);
    for (const dtype of ["f32", "bf16"] as HalfOrF32[]) {
      const { t, x } = logitsTensor(values, n, v, dtype);
      const fwd = tokenLogprobs(t, i32(targets), { temperature: 0.6 });
      const { gl, gh, grads } = upstream(5, n, "both");
      const d = tokenLogprobsBackward(t, i32(targets), fwd, grads, { temperature: 0.6 });
      checkBackward(x, n, v, targets, 0.6, gl, gh, floatValues(d), { dtype });
    }
  });

  it("huge-magnitude and -inf logits: -inf entries get exactly 0, the rest match", () => {
    const v = 6;
    const rows = [
      [1e4, -1e4, 0, 1e4 - 1, -Infinity, 3],
      [3e38, -3e38, 0, -Infinity, 3e38, 1],
      [-Infinity, -Infinity, 5, -Infinity, -Infinity, -Infinity],
    ];
    const targets = [3, 1, 0];
    const { t, x } = logitsTensor(rows.flat(), 3, v);
    const fwd = tokenLogprobs(t, i32(targets));
    const gl = [0.5, -1, 2], gh = [1, 0.25, -0.5];
    const d = tokenLogprobsBackward(t, i32(targets), fwd, { dlogp: f32(gl), dentropy: f32(gh) });
    const g = d.toArray();
    for (let k = 0; k < rows.flat().length; k++) if (x[k] === -Infinity && k !== 2 * v) expect(g[k]).toBe(0);
    // a -inf target still receives the one-hot part dlogp/τ
    expect(g[2 * v + 0]).toBe(Math.fround(gl[2]!));
    checkBackward(x, 3, v, targets, 1, gl, gh, g);
  });

  it("dlogp only / dentropy only equal the full gradient with the other upstream set to zero, bit for bit", () => {
    const n = 4, v = 300;
    const { values, targets } = randomLogits(3, n, v, 6, 0.1);
    const { t } = logitsTensor(values, n, v);
    const fwd = tokenLogprobs(t, i32(targets));
    const g = f32([0.3, -1.2, 2, 0.7]), zero = f32([0, 0, 0, 0]);
    expect(tokenLogprobsBackward(t, i32(targets), fwd, { dlogp: g }).toArray()).toEqual(
      tokenLogprobsBackward(t, i32(targets), fwd, { dlogp: g, dentropy: zero }).toArray(),
    );
    expect(tokenLogprobsBackward(t, i32(targets), fwd, { dentropy: g }).toArray()).toEqual(
      tokenLogprobsBackward(t, i32(targets), fwd, { dlogp: zero, dentropy: g }).toArray(),
    );
    // neither: an all-zero gradient
    expect(Array.from(tokenLogprobsBackward(t, i32(targets), fwd, {}).toArray()).every((y) => y === 0)).toBe(true);
  });

  it("dlogp-only rows sum to zero (softmax gradient), up to fp32 rounding of v terms", () => {
    const n = 3, v = 5000;
    const { values, targets } = randomLogits(11, n, v, 4);
    const { t } = logitsTensor(values, n, v);
    const fwd = tokenLogprobs(t, i32(targets));
    const d = tokenLogprobsBackward(t, i32(targets), fwd, { dlogp: f32([1, -2, 0.5]) }).toArray();
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < v; j++) s += d[i * v + j]!;
      // sum p = 1 up to the lse error of the row (~depth·u) plus one rounding per element
      expect(Math.abs(s)).toBeLessThan(4 * U * (230 + 64) * [1, 2, 0.5][i]!);
    }
  });

  for (const dtype of ["f32", "bf16", "f16"] as HalfOrF32[]) {
    it(`inPlace (${dtype}) returns the logits tensor holding exactly the out-of-place gradient`, () => {
      const n = 3, v = 2500;
      const { values, targets } = randomLogits(21, n, v, 8, 0.2);
      const a = logitsTensor(values, n, v, dtype).t, b = logitsTensor(values, n, v, dtype).t;
      const fwd = tokenLogprobs(a, i32(targets), { temperature: 0.7 });
      const grads = { dlogp: f32([1, -0.5, 2]), dentropy: f32([-0.1, 0.3, 1]) };
      const outOfPlace = tokenLogprobsBackward(a, i32(targets), fwd, grads, { temperature: 0.7 });
      const inPlace = tokenLogprobsBackward(b, i32(targets), fwd, grads, { temperature: 0.7, inPlace: true });
      expect(inPlace).toBe(b);
      expect(Array.from(b.toArray())).toEqual(Array.from(outOfPlace.toArray()));
      // the out-of-place call left its input alone
      expect(Array.from(a.toArray())).toEqual(Array.from(logitsTensor(values, n, v, dtype).t.toArray()));
    });
  }
});

describe("tokenLogprobsBackward vs central finite differences of the float64 forward", () => {
  // L(x) = Σ_i gl_i·logp_i(x) + gh_i·H_i(x) on the float64 reference; central differences with
  // h = 1e-4 on logits in [-3, 3], n <= 3, v <= 9. Truncation error h²/6·|L'''| with |L'''| <=
  // ~(|gl| + 6|gh|)/τ³ for such small rows: <= 2e-9·(|gl| + 6|gh|)/τ³; float64 round-off
  // ~1e-16·|L|/h ~ 1e-11. The native fp32 gradient carries the checkBackward budget (~1e-6 here).
  const h = 1e-4;
  it("dlogits = ∂L/∂logits for random small rows (both upstreams, either alone, temperatures)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1, 0.7, 1.5),
        gradsArb,
        (seed, n, v, temperature, which) => {
          const { values, targets } = randomLogits(seed, n, v, 3);
          const { t, x } = logitsTensor(values, n, v);
          const fwd = tokenLogprobs(t, i32(targets), { temperature });
          const { gl, gh, grads } = upstream(seed, n, which);
          const native = tokenLogprobsBackward(t, i32(targets), fwd, grads, { temperature }).toArray();
          const L = (y: Float64Array) => {
            const r = tokenLogprobsRef(y, n, v, targets, temperature);
            let s = 0;
            for (let i = 0; i < n; i++) s += (gl ? gl[i]! * r.logp[i]! : 0) + (gh ? gh[i]! * r.entropy[i]! : 0);
            return s;
          };
          const analytic = tokenLogprobsBackwardRef(x, n, v, targets, temperature, gl, gh);
          for (let k = 0; k < n * v; k++) {
            const i = Math.floor(k / v);
            const fd = centralDiff(L, x, k, h);
            const up = (gl ? Math.abs(gl[i]!) : 0) + 6 * (gh ? Math.abs(gh[i]!) : 0);
            const fdErr = (2e-9 * up) / temperature ** 3 + 1e-10;
            // the float64 analytic reference agrees with the differences (checks the reference itself)
            expect(Math.abs(analytic[k]! - fd)).toBeLessThanOrEqual(fdErr);
            // native fp32: its element budget for v <= 9 (depth 18) is below 4e-6·up; plus the FD error
            expect(Math.abs(native[k]! - fd)).toBeLessThanOrEqual(4e-6 * up + fdErr);
          }
          checkBackward(x, n, v, targets, temperature, gl, gh, native);
        },
      ),
      { numRuns: 40, seed: 0xfd },
    );
  });

  it("V = 1: the gradient is exactly 0 (logp and H are constant)", () => {
    const t = Tensor.from(Float32Array.from([2, -7, 0.5]), [3, 1]);
    const targets = i32([0, 0, 0]);
    const fwd = tokenLogprobs(t, targets);
    const d = tokenLogprobsBackward(t, targets, fwd, { dlogp: f32([1, 2, 3]), dentropy: f32([1, 1, 1]) });
    expect(Array.from(d.toArray()).map((y) => Math.abs(y))).toEqual([0, 0, 0]);
  });
});
