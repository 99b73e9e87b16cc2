import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { distinctSequences, expandRows, type Rollout } from "../src/index.js";

const rollout = (prompt: number[], response: number[]): Rollout => ({
  promptIds: Int32Array.from(prompt), responseIds: Int32Array.from(response), oldLogp: new Float32Array(response.length),
  text: "", finishReason: "eos", group: 0, exampleIndex: 0, gold: "",
});
const key = (r: Rollout) => `${Array.from(r.promptIds)}|${Array.from(r.responseIds)}`;

describe("distinctSequences: each (prompt, response) sequence scored once", () => {
  it("keeps the first occurrence of each sequence, in order, and maps every rollout to its own", () => {
    const tokens = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(tokens, tokens), { maxLength: 30 }), (pairs) => {
        const rs = pairs.map(([p, r]) => rollout(p, r));
        const { unique, of } = distinctSequences(rs);
        const seen: string[] = [];
        for (const r of rs) if (!seen.includes(key(r))) seen.push(key(r));
        expect(unique.map(key)).toEqual(seen);
        rs.forEach((r, i) => expect(key(unique[of[i]!]!)).toBe(key(r)));
      }),
      { numRuns: 300 },
    );
  });

  it("tells apart sequences with the same tokens split differently between prompt and response", () => {
    const { unique, of } = distinctSequences([rollout([1, 2], [3]), rollout([1], [2, 3]), rollout([1, 2], [3])]);
    expect(unique).toHaveLength(2);
    expect(Array.from(of)).toEqual([0, 1, 0]);
  });

  it("expandRows copies each distinct row back to the rollouts that share it", () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6]); // 3 rows of width 2
    expect(Array.from(expandRows(src, Int32Array.from([2, 0, 2, 1]), 2))).toEqual([5, 6, 1, 2, 5, 6, 3, 4]);
  });
});
