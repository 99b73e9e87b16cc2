import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { IndexRangeError, Tensor, ValueError, sampleTokens } from "../src/index.js";
import { sampleRef } from "../src/reference/index.js";

const f32 = (xs: number[], shape?: number[]) => Tensor.from(Float32Array.from(xs), shape ?? [xs.length]);

describe("sampleTokens", () => {
  it("greedy picks the first maximum", () => {
    const t = sampleTokens(f32([1, 5, 5, -Infinity, 2, 0, 9, 9], [2, 4]), f32([0.5, 0.5]), { temperature: 0 });
    expect(Array.from(t.toArray())).toEqual([1, 2]);
  });

  it("matches the TypeScript reference (temperature, top-k, top-p)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(0.6, 1, 1.7), fc.constantFrom(1, 0.9, 0.5, 0.05), fc.constantFrom(0, 1, 3, 100),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (b, v, temp, topP, topK, seed) => {
          let s = seed;
          const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647);
          const logits = Array.from({ length: b * v }, () => (rnd() - 0.5) * 8);
          const u = Array.from({ length: b }, () => Math.min(rnd(), 0.999999));
          const got = sampleTokens(f32(logits, [b, v]), f32(u), { temperature: temp, topP, topK });
          expect(Array.from(got.toArray())).toEqual(Array.from(sampleRef(logits, b, v, u, temp, topP, topK)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("stratified uniforms reproduce the softmax distribution (within 1/N)", () => {
    const logits = [0.3, -1, 2, 0, 1.1];
    const N = 4000;
    const counts = new Array(5).fill(0);
    const rows = Array.from({ length: N }, () => logits).flat();
    const u = Array.from({ length: N }, (_, i) => (i + 0.5) / N);
    const ids = sampleTokens(f32(rows, [N, 5]), f32(u));
    for (const id of ids.toArray()) counts[id as number]++;
    const z = logits.map(Math.exp), tot = z.reduce((a, b) => a + b, 0);
    // stratified sampling: each category's count is within one sample of N·p
    counts.forEach((c, j) => expect(Math.abs(c / N - z[j]! / tot)).toBeLessThanOrEqual(1.5 / N));
  });

  it("top-p keeps only the nucleus; top-k keeps only the k most likely", () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const N = 200;
    const u = Array.from({ length: N }, (_, i) => (i + 0.5) / N);
    const rows = f32(Array.from({ length: N }, () => logits).flat(), [N, 4]);
    // nucleus for p = 0.7 is {0, 1} (0.5 + 0.3 >= 0.7)
    expect(new Set(sampleTokens(rows, f32(u), { topP: 0.7 }).toArray())).toEqual(new Set([0, 1]));
    expect(new Set(sampleTokens(rows, f32(u), { topK: 3 }).toArray())).toEqual(new Set([0, 1, 2]));
    expect(new Set(sampleTokens(rows, f32(u), { topK: 1 }).toArray())).toEqual(new Set([0]));
  });

  it("rejects bad options and bad rows with typed errors", () => {
    const l = f32([0, 1, 2], [1, 3]);
    expect(() => sampleTokens(l, f32([1]))).toThrow(ValueError);
    expect(() => sampleTokens(l, f32([0.5]), { topP: 0 })).toThrow(/topP/);
    expect(() => sampleTokens(l, f32([0.5]), { temperature: -1 })).toThrow(/temperature/);
    expect(() => sampleTokens(l, f32([0.5]), { topK: 1.5 })).toThrow(/topK/);
    expect(() => sampleTokens(f32([0, NaN, 1], [1, 3]), f32([0.5]))).toThrow(/logits.*row 0/);
    expect(() => sampleTokens(l, f32([0.5, 0.5]))).toThrow(/uniforms/);
    expect(IndexRangeError).toBeDefined();
  });
});
