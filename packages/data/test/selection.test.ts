import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accuracyFraction,
  exactPopulationVariance,
  historicalVarianceScores,
  parseAccuracyHistory,
  populationStd,
  randomRanking,
  selectExamples,
  topLevelKeys,
} from "../src/index.js";

describe("historical variance score", () => {
  it("is the population standard deviation", () => {
    expect(populationStd([0, 1])).toBe(0.5); // the sample std would be 0.707
    expect(populationStd([0.5, 0.5, 0.5])).toBe(0);
    expect(populationStd([])).toBe(0);
    expect(populationStd([0, 0, 0, 1])).toBeCloseTo(Math.sqrt(3) / 4, 15);
  });

  it("ranks descending; ties keep the file's key order, not JS's numeric key order", () => {
    const text = '{"30": [0, 0], "7": [0, 1], "12": [1, 1], "2": [1, 0], "5": [0.5, 0.5]}';
    expect(topLevelKeys(text)).toEqual(["30", "7", "12", "2", "5"]);
    const ranked = historicalVarianceScores(parseAccuracyHistory(text));
    expect(ranked).toEqual([
      { index: 7, score: 0.5 },
      { index: 2, score: 0.5 },
      { index: 30, score: 0 },
      { index: 12, score: 0 },
      { index: 5, score: 0 },
    ]);
    // A plain object enumerates integer keys numerically: the tie order changes.
    expect(historicalVarianceScores(JSON.parse(text) as Record<string, number[]>).map((r) => r.index)).toEqual([2, 7, 5, 12, 30]);
  });

  it("gives equal scores to permutations of the same accuracies", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 }).map((k) => k / 8), { minLength: 1, maxLength: 60 }), (xs) => {
        const ys = [...xs].reverse();
        expect(populationStd(ys)).toBe(populationStd(xs));
      }),
    );
  });

  it("topLevelKeys ignores nested keys and strings that look like keys", () => {
    expect(topLevelKeys('{"a\\"b": {"x": 1}, "c": ["d:", "e"], "f" : 2}')).toEqual(['a"b', "c", "f"]);
  });

  it("rejects malformed histories with the source named", () => {
    expect(() => parseAccuracyHistory("[1]", "h.json")).toThrow("h.json: expected an object");
    expect(() => parseAccuracyHistory('{"1": [0, "x"]}', "h.json")).toThrow('h.json: key "1" must map to a list of numbers');
    expect(() => parseAccuracyHistory('{"one": [0]}', "h.json")).toThrow(/not an example index/);
    expect(() => parseAccuracyHistory("{", "h.json")).toThrow(/h.json: invalid JSON/);
  });
});

describe("random selection", () => {
  const history = new Map(Array.from({ length: 50 }, (_, i) => [String(i), [i % 2, 0]] as [string, number[]]));

  it("is a seeded permutation", () => {
    const a = randomRanking(history, 1);
    expect(randomRanking(history, 1)).toEqual(a);
    expect(randomRanking(history, 2)).not.toEqual(a);
    expect(a.map((r) => r.index).sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
  });

  it("selectExamples takes the top K of either method", () => {
    expect(selectExamples(history, { method: "std", top: 3 }).map((r) => r.index)).toEqual([1, 3, 5]);
    expect(selectExamples(history, { method: "random", top: 4, seed: 7 })).toEqual(randomRanking(history, 7).slice(0, 4));
    expect(selectExamples(history, { method: "std" }).length).toBe(50);
  });
});

describe("exact historical variance", () => {
  // Two histories from acc_step_500.json with the same variance; the float formula gave
  // 0.18687224329755 and 0.18687224329755003, so float noise ordered the tie.
  const a = [0.625,0.75,0.625,0.375,0.25,0.875,0.875,0.625,0.5,0.75,0.75,1,0.25,0.875,0.875,0.625,0.75,1,0.625,0.875,0.875,0.875,0.75,0.75,1,0.875,0.75,1,0.625,0.625,0.875,1,0.875,0.875,0.875,0.875,1,0.75,0.875,0.875,0.875,1,1,0.75,0.625,1,1,1,0.75,0.5,1,1,0.875];
  const b = [0.25,0.25,0.625,0.5,0.375,0.375,0.5,0.375,0.625,0.375,0.125,0.625,0.75,0.375,0.625,0.25,0.375,0.375,0.5,0.75,0.625,0.75,0.5,0.875,0.375,0.625,0.375,0.625,0.875,0.625,0.875,0.5,0.875,0.5,0.5,0.625,0.5,0.5,0.75,0.625,0.625,0.625,0.625,0.875,0.75,0.375,0.625,0.75,0.75,0.875,0.75,0.75,0.75];

  it("ties histories whose variances are equal as fractions, in file order", () => {
    expect(exactPopulationVariance(a)).toEqual(exactPopulationVariance(b));
    for (const order of [["1", "2"], ["2", "1"]] as const) {
      const history = new Map([[order[0], order[0] === "1" ? a : b], [order[1], order[1] === "1" ? a : b]]);
      const ranked = historicalVarianceScores(history);
      expect(ranked.map((r) => String(r.index))).toEqual([...order]);
      expect(ranked[0]!.score).toBe(ranked[1]!.score);
    }
  });

  it("recovers the fractions accuracies were printed from", () => {
    expect(accuracyFraction(0.375)).toEqual({ n: 3n, d: 8n });
    expect(accuracyFraction(1 / 3)).toEqual({ n: 1n, d: 3n });
    expect(accuracyFraction(0.1)).toEqual({ n: 1n, d: 10n });
    expect(accuracyFraction(0)).toEqual({ n: 0n, d: 1n });
    expect(accuracyFraction(1)).toEqual({ n: 1n, d: 1n });
    expect(exactPopulationVariance([0, 1])).toEqual({ n: 1n, d: 4n });
  });

  it("a history and its mirror 1 - x have exactly the same variance (float arithmetic breaks this)", () => {
    const acc = fc.array(fc.integer({ min: 0, max: 8 }).map((k) => k / 8), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(acc, (xs) => {
        const mirror = xs.map((x) => 1 - x);
        expect(exactPopulationVariance(mirror)).toEqual(exactPopulationVariance(xs));
        const ranked = historicalVarianceScores(new Map([["9", mirror], ["3", xs]]));
        expect(ranked.map((r) => r.index)).toEqual([9, 3]);
      }),
      { numRuns: 200 },
    );
  });

  it("agrees with the float formula to rounding", () => {
    const acc = fc.array(fc.integer({ min: 0, max: 16 }).map((k) => k / 16), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(acc, (xs) => {
        const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
        expect(populationStd(xs)).toBeCloseTo(std, 12);
      }),
      { numRuns: 200 },
    );
  });
});
