/**
 * tokenLogprobs (kernel (a)): native fp32 forward vs the float64 reference
 * tokenLogprobsRef on f32, f16 and bf16 logits, edge shapes and values, and
 * the invariances of log-softmax / entropy. Tolerances: rowBudget in
 * helpers.ts (fp32 unit roundoff u = 2^-24 times the summation depth, plus
 * u·|logit| terms for the rounding of z, m and lse).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Tensor, tokenLogprobs } from "../src/index.js";
import { tokenLogprobsRef } from "../src/reference/index.js";
import { type HalfOrF32, U, checkForward, depth, i32, logitsTensor, randomLogits, rowBudget } from "./helpers.js";

const runs = { numRuns: 40, seed: 0x5eed };

const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  n: fc.integer({ min: 0, max: 6 }),
  v: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2000, max: 5000 })),
  scale: fc.constantFrom(1, 8, 30, 1e4),
  infFrac: fc.constantFrom(0, 0, 0.3, 0.9),
  temperature: fc.constantFrom(1, 0.6, 1.7, 0.25),
});

describe("tokenLogprobs vs tokenLogprobsRef", () => {
  for (const dtype of ["f32", "bf16", "f16"] as HalfOrF32[]) {
    it(`matches the float64 reference on random ${dtype} logits (shapes incl. N = 0, V = 1, multi-block rows; ±1e4 scale, -inf entries, temperatures)`, () => {
      fc.assert(
        fc.property(caseArb, ({ seed, n, v, scale, infFrac, temperature }) => {
          // f16 tops out at 65504: its largest-scale case stays representable
          const { values, targets } = randomLogits(seed, n, v, dtype === "f16" ? Math.min(scale, 6e4) : scale, infFrac);
          const { t, x } = logitsTensor(values, n, v, dtype);
          const out = tokenLogprobs(t, i32(targets), { temperature });
          expect(out.logp.shape).toEqual([n]);
          checkForward(x, n, v, targets, temperature, out);
        }),
        runs,
      );
    });
  }

  it("N = 0 gives empty outputs", () => {
    const out = tokenLogprobs(Tensor.zeros([0, 7]), Tensor.zeros([0], "i32"));
    expect(out.logp.numel + out.entropy.numel + out.lse.numel).toBe(0);
  });

  it("V = 1: logp = 0, entropy = 0, lse = z (any finite logit, any temperature)", () => {
    const xs = [0, -3.5, 1e4, -3e38, 3e38, 1e-30];
    const out = tokenLogprobs(Tensor.from(Float32Array.from(xs), [xs.length, 1]), i32(xs.map(() => 0)), { temperature: 1 });
    expect(Array.from(out.logp.toArray())).toEqual(xs.map(() => 0));
    expect(Array.from(out.entropy.toArray())).toEqual(xs.map(() => 0));
    expect(Array.from(out.lse.toArray())).toEqual(xs.map((x) => Math.fround(x)));
  });

  it("a long row (v = 151936, n = 2) matches the reference in f32 and bf16", () => {
    const v = 151936, n = 2;
    const { values, targets } = randomLogits(1234, n, v, 12, 0.05);
    for (const dtype of ["f32", "bf16"] as HalfOrF32[]) {
      const { t, x } = logitsTensor(values, n, v, dtype);
      for (const temperature of [1, 0.6]) checkForward(x, n, v, targets, temperature, tokenLogprobs(t, i32(targets), { temperature }));
    }
  });

  it("huge-magnitude logits (±1e4, ±3e38 finite) stay finite where the result is representable", () => {
    const v = 5;
    const rows = [
      [1e4, -1e4, 0, 1e4 - 1, -1e4],
      [3e38, -3e38, 0, 1, 3e38],
      [-3e38, -3e38, -3e38, -3e38, -3e38],
      [3e38, 3e38 * 0.999999, -Infinity, 2e38, -1],
      [-1e4, -1e4 + 0.5, -Infinity, -Infinity, -1e4 + 2],
    ];
    const n = rows.length;
    for (const target of [0, 1, 2, 4]) {
      const targets = rows.map(() => target);
      const { t, x } = logitsTensor(rows.flat(), n, v, "f32");
      const out = tokenLogprobs(t, i32(targets));
      checkForward(x, n, v, targets, 1, out);
      // every output is a number; overflow (logp = -6e38) may only give -inf, never NaN
      for (const a of [out.logp, out.entropy, out.lse]) for (const y of a.toArray()) expect(Number.isNaN(y)).toBe(false);
    }
    // bf16 reaches ±3e38 too
    const { t, x } = logitsTensor(rows.flat(), n, v, "bf16");
    const targets = rows.map(() => 1);
    checkForward(x, n, v, targets, 1, tokenLogprobs(t, i32(targets)));
  });

  it("huge-magnitude maxima in different 2048-element blocks of one row (gap overflows fp32) give entropy 0, not NaN", () => {
    // Regression: the online rescale between blocks computed 0 * (w + -inf * s) = NaN when the
    // block maxima were -3e38 then +3e38.
    const v = 4096;
    const a = new Float32Array(v).fill(-3e38);
    a[3000] = 3e38;
    const b = new Float32Array(v).fill(-1e4);
    b[4000] = 1e4;
    b[10] = -3e38;
    const values = [...a, ...b];
    const targets = [3000, 10];
    const { t, x } = logitsTensor(values, 2, v);
    const out = tokenLogprobs(t, i32(targets));
    expect(Array.from(out.entropy.toArray())).toEqual([0, 0]);
    checkForward(x, 2, v, targets, 1, out);
  });

  it("-inf entries: a -inf target gives logp = -inf; -inf entries do not change the other rows' results", () => {
    const v = 40;
    const { values, targets } = randomLogits(77, 3, v, 5);
    const masked = Float64Array.from(values);
    for (let i = 0; i < 3; i++) for (let j = 0; j < v; j += 3) if (j !== targets[i]) masked[i * v + j] = -Infinity;
    masked[2 * v + targets[2]!] = -Infinity;
    const { t, x } = logitsTensor(masked, 3, v);
    const out = tokenLogprobs(t, i32(targets));
    expect(out.logp.toArray()[2]).toBe(-Infinity);
    checkForward(x, 3, v, targets, 1, out);
  });
});

describe("tokenLogprobs invariances", () => {
  it("shift invariance: logp, entropy unchanged and lse shifted by c/τ when every logit moves by c (exact in fp32)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: -500 * 1024, max: 500 * 1024 }),
        fc.constantFrom(1, 0.5, 2),
        (seed, n, v, c1024, temperature) => {
          // logits and c on a 1/1024 grid below 2^13 in magnitude, so x + c is exact in fp32
          const { values, targets } = randomLogits(seed, n, v, 20, 0.1, true);
          const c = c1024 / 1024;
          const shifted = values.map((y) => y + c);
          const a = tokenLogprobs(logitsTensor(values, n, v).t, i32(targets), { temperature });
          const b = tokenLogprobs(logitsTensor(shifted, n, v).t, i32(targets), { temperature });
          const ref = tokenLogprobsRef(shifted, n, v, targets, temperature);
          for (let i = 0; i < n; i++) {
            // both runs carry their own row budget (the shifted one with the larger |z|)
            const bud = rowBudget(shifted, i * v, v, targets[i]!, temperature, { lse: ref.lse[i]!, entropy: ref.entropy[i]! });
            const la = a.logp.toArray()[i]!, lb = b.logp.toArray()[i]!;
            if (la === -Infinity) expect(lb).toBe(-Infinity);
            else expect(Math.abs(la - lb)).toBeLessThanOrEqual(2 * bud.logp);
            expect(Math.abs(a.entropy.toArray()[i]! - b.entropy.toArray()[i]!)).toBeLessThanOrEqual(2 * bud.entropy);
            expect(Math.abs(a.lse.toArray()[i]! + c / temperature - b.lse.toArray()[i]!)).toBeLessThanOrEqual(2 * bud.lse);
          }
        },
      ),
      { numRuns: 30, seed: 0x51f7 },
    );
  });

  it("logp <= 0 and 0 <= H <= log(#finite entries): exact at τ = 1, within u·|z|max otherwise", () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), ({ seed, n, v, scale, infFrac, temperature }, uniform) => {
        const { values, targets } = randomLogits(seed, n, v, scale, infFrac);
        // uniform rows sit exactly at the upper bound H = log V
        if (uniform) for (let k = 0; k < values.length; k++) if (values[k] !== -Infinity) values[k] = 1.25;
        const { t, x } = logitsTensor(values, n, v);
        const out = tokenLogprobs(t, i32(targets), { temperature });
        const ref = tokenLogprobsRef(x, n, v, targets, temperature);
        for (let i = 0; i < n; i++) {
          let finite = 0, zmax = 0;
          for (let j = 0; j < v; j++) {
            const z = x[i * v + j]! / temperature;
            if (z !== -Infinity) (finite++, (zmax = Math.max(zmax, Math.abs(z))));
          }
          // At τ = 1 every d = z − m is exactly <= 0 (rounding is monotone, the max gives e^0 = 1, so
          // s >= 1): logp <= 0 and H >= 0 hold exactly. At τ != 1 the kernel's d = x·(1/τ) − m is
          // FMA-contracted, so the max entry's d is the rounding error of m (|d| <= u·|z|max), and
          // logp, −H can exceed 0 by that much (2u|z|max with slack).
          const slack = temperature === 1 ? 0 : 2 * U * zmax;
          expect(out.logp.toArray()[i]!).toBeLessThanOrEqual(slack);
          const H = out.entropy.toArray()[i]!;
          expect(H).toBeGreaterThanOrEqual(-slack);
          const bud = rowBudget(x, i * v, v, targets[i]!, temperature, { lse: ref.lse[i]!, entropy: ref.entropy[i]! });
          expect(H).toBeLessThanOrEqual(Math.log(finite) + bud.entropy);
        }
      }),
      { numRuns: 80, seed: 0x1a2b },
    );
  });

  it("the summation depth used by the budgets is small even for the longest rows", () => {
    // documents the error model: ~219 additions on the longest path of a 151936-wide row
    expect(depth(151936)).toBe(128 + 16 + 75);
    expect(depth(9)).toBe(1 + 16 + 1);
    expect(depth(151936) * U).toBeLessThan(2e-5);
  });
});
