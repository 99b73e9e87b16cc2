import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { budgetChunks, type Rollout } from "../src/index.js";

const rollout = (prompt: number, response: number): Rollout => ({
  promptIds: new Int32Array(prompt), responseIds: new Int32Array(response), oldLogp: new Float32Array(response),
  text: "", finishReason: "eos", group: 0, exampleIndex: 0, gold: "",
});

describe("budgetChunks: scoring calls under a row cap and a token budget", () => {
  it("covers the rollouts in order with maximal calls that respect both limits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 60 })), { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 600 }),
        (lens, maxRows, maxTokens) => {
          const rs = lens.map(([p, r]) => rollout(p, r));
          const width = (i: number) => rs[i]!.promptIds.length + rs[i]!.responseIds.length;
          const cost = (a: number, b: number) => (b - a) * Math.max(...Array.from({ length: b - a }, (_, k) => width(a + k)));
          const out = budgetChunks(rs, { maxRows, maxTokens });
          let next = 0;
          for (const [a, b] of out) {
            expect(a).toBe(next);
            expect(b).toBeGreaterThan(a);
            expect(b - a).toBeLessThanOrEqual(maxRows);
            if (b - a > 1) expect(cost(a, b)).toBeLessThanOrEqual(maxTokens); // a lone long rollout may exceed it
            // maximal: one more row would break a limit
            if (b < rs.length) expect(b + 1 - a > maxRows || cost(a, b + 1) > maxTokens).toBe(true);
            next = b;
          }
          expect(next).toBe(rs.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a number is a row cap with no token budget", () => {
    const rs = Array.from({ length: 7 }, () => rollout(100, 100));
    expect(budgetChunks(rs, 3)).toEqual([[0, 3], [3, 6], [6, 7]]);
    expect(budgetChunks([], 3)).toEqual([]);
    // the budget: 2 rows of width 200 fit in 450 tokens, 3 do not
    expect(budgetChunks(rs, { maxRows: 8, maxTokens: 450 })).toEqual([[0, 2], [2, 4], [4, 6], [6, 7]]);
  });
});
