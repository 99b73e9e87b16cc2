import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildKShotSet, findByIndex } from "../src/index.js";
import { row } from "./helpers.js";

const pool = [row(5), row(124, "12.8"), row(682, "\\frac{4}{3}"), row(7)];

describe("k-shot sets", () => {
  it("repeats each example in a contiguous block, in the order asked", () => {
    const set = buildKShotSet(pool, [682, 124], { repeat: 3 });
    expect(set.map((r) => r.extra_info.index)).toEqual([682, 682, 682, 124, 124, 124]);
    set[0]!.reward_model.ground_truth = "changed";
    expect(findByIndex(pool, 682).reward_model.ground_truth).toBe("\\frac{4}{3}");
  });

  it("fills an exact size, spreading the remainder over the first examples", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(5, 124, 682, 7), { minLength: 1 }), fc.integer({ min: 4, max: 300 }), (indices, size) => {
        const set = buildKShotSet(pool, indices, { size });
        expect(set.length).toBe(size);
        const counts = indices.map((i) => set.filter((r) => r.extra_info.index === i).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        expect([...counts].sort((a, b) => b - a)).toEqual(counts);
      }),
    );
  });

  it("rejects unknown, duplicated and invalid requests", () => {
    expect(() => buildKShotSet(pool, [9], { repeat: 2 })).toThrow("no example with extra_info.index 9");
    expect(() => buildKShotSet([row(1), row(1)], [1], { repeat: 2 })).toThrow(/occurs 2 times/);
    expect(() => buildKShotSet(pool, [5], {})).toThrow(/exactly one of repeat and size/);
    expect(() => buildKShotSet(pool, [5], { repeat: 0 })).toThrow(/positive integer/);
    expect(() => buildKShotSet(pool, [5, 7], { size: 1 })).toThrow(/smaller/);
    expect(() => buildKShotSet(pool, [], { repeat: 1 })).toThrow(/at least one/);
  });
});
