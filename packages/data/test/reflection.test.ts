import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countReflectionWords, DEFAULT_REFLECTION_WORDS, reflectionStats, responseLengthStats } from "../src/index.js";

describe("self-reflection words", () => {
  it("counts whole words case-insensitively", () => {
    const text = "Let me RECHECK this. Rechecking... recheck-ed? We recheck; prerecheck. Let me re-evaluate and double  check, then Verify.";
    const counts = countReflectionWords(text);
    expect(counts.recheck).toBe(2);
    expect(counts["re-evaluate"]).toBe(1);
    expect(counts.reevaluate).toBe(0);
    expect(counts["double check"]).toBe(1);
    expect(counts.verify).toBe(1);
    expect(Object.keys(counts)).toEqual(DEFAULT_REFLECTION_WORDS.map((w) => w.toLowerCase()));
  });

  it("takes a custom list, with inflected forms on request", () => {
    const text = "Wait, rechecking: I recalculated. Wait.";
    expect(countReflectionWords(text, { words: ["wait", "recheck"] })).toEqual({ wait: 2, recheck: 0 });
    expect(countReflectionWords(text, { words: ["recheck", "recalculate"] })).toEqual({ recheck: 0, recalculate: 0 });
    expect(countReflectionWords(text, { words: ["recheck", "recalculate"], inflections: true })).toEqual({ recheck: 1, recalculate: 1 });
    const more = "Recalculating. Verified, verifies, verifying; reverify.";
    expect(countReflectionWords(more, { words: ["recalculate", "verify"], inflections: true })).toEqual({ recalculate: 1, verify: 3 });
    expect(() => countReflectionWords(text, { words: [" "] })).toThrow(/empty/);
  });

  it("counts n occurrences when a word is inserted n times into unrelated text", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("the", "sum", "is", "x", "=", "2.", "\n"), { maxLength: 30 }), fc.nat(5), (filler, n) => {
        const words = [...filler, ...Array(n).fill("Rethink")];
        expect(countReflectionWords(words.join(" ")).rethink).toBe(n);
      }),
    );
  });

  it("aggregates over a step's responses", () => {
    const s = reflectionStats(["recheck recheck", "nothing here", "let me verify"]);
    expect(s.total).toBe(3);
    expect(s.counts.recheck).toBe(2);
    expect(s.responsesWithReflection).toBe(2);
    expect(s.responses).toBe(3);
  });
});

describe("response length statistics", () => {
  it("computes mean, spread, quantiles and the clipped share", () => {
    const s = responseLengthStats([10, 20, 30, 40, 3072], 3072);
    expect(s).toMatchObject({ count: 5, mean: 634.4, min: 10, median: 30, max: 3072, clippedFraction: 0.2 });
    expect(s.p90).toBeCloseTo(40 + 0.6 * 3032, 9);
    expect(responseLengthStats([])).toMatchObject({ count: 0, mean: 0 });
  });
});
