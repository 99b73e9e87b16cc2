import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { gaeRef, grpoAdvantageRef } from "@rlvr/native/reference";

import { VerifierPool } from "@rlvr/verifier";

import { gaeAdvantages, grpoAdvantages, verifierReward } from "../src/index.js";
import { epochOrder } from "../src/trainer.js";

describe("advantages and reward math", () => {
  it("GRPO: groups are prompt rows (contiguous blocks); matches the reference", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.integer(), (groups, n, normStd, seed) => {
        const scores = Array.from({ length: groups * n }, (_, i) => ((seed + i * 7919) >>> 3) % 2);
        const ids = Array.from({ length: groups * n }, (_, i) => Math.floor(i / n));
        const a = grpoAdvantages(scores, ids, { normStd, eps: 1e-6 });
        const r = grpoAdvantageRef(scores, n, normStd, 1e-6);
        a.forEach((x, i) => expect(x).toBeCloseTo(r[i]!, 4));
      }),
      { numRuns: 50 },
    );
    // pi_1 repeated: 2 identical prompts are 2 groups, not one
    const a = grpoAdvantages([1, 0, 1, 1], [0, 0, 1, 1], { normStd: true, eps: 1e-6 });
    expect(Array.from(a.subarray(2))).toEqual([0, 0]);
    expect(() => grpoAdvantages([1, 0, 1], [0, 1, 0], { normStd: true, eps: 1e-6 })).toThrow(/contiguous/);
  });

  it("GAE: score on the last response token, whitened; matches the reference", () => {
    const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);
    const values = Float32Array.from([0.1, 0.2, 0.3, 0.5, -0.4, 0]);
    const g = gaeAdvantages([1, 0], values, mask, 3, { gamma: 1, lambda: 0.95 });
    const r = gaeRef([0, 0, 1, 0, 0, 0], values, mask, 2, 3, 1, 0.95, true);
    g.advantages.forEach((x, i) => expect(x).toBeCloseTo(r.advantages[i]!, 5));
    g.returns.forEach((x, i) => expect(x).toBeCloseTo(r.returns[i]!, 5));
  });

  it("epoch order is a seeded permutation", () => {
    const a = epochOrder(10, 1, 0, true), b = epochOrder(10, 1, 1, true);
    expect([...a].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a).toEqual(epochOrder(10, 1, 0, true));
    expect(a).not.toEqual(b);
    expect(Array.from(epochOrder(4, 1, 0, false))).toEqual([0, 1, 2, 3]);
  });

  it("verifier reward: 1/0 by default; the format reward pays a wrong but boxed answer", async () => {
    const pool = new VerifierPool({ size: 1 });
    try {
      const items = [
        { response: "so \\boxed{2}", gold: "2", exampleIndex: 0 },
        { response: "so \\boxed{7}", gold: "2", exampleIndex: 0 },
        { response: "no box", gold: "2", exampleIndex: 0 },
      ];
      expect(await verifierReward(pool, { formatReward: 0, timeoutMs: 5000 })(items)).toEqual([
        { score: 1, correct: true, extracted: "2" }, { score: 0, correct: false, extracted: "7" }, { score: 0, correct: false, extracted: null },
      ]);
      expect((await verifierReward(pool, { formatReward: 1, timeoutMs: 5000 })(items)).map((r) => r.score)).toEqual([1, 1, 0]);
    } finally {
      await pool.close();
    }
  });
});
