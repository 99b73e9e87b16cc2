import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifySync } from "@rlvr/verifier";
import { applyWrongLabels, seededRandom, withWrongLabel, wrongAnswerFor } from "../src/index.js";
import { row } from "./helpers.js";

describe("wrong labels", () => {
  it("replaces the gold with a given wrong answer and keeps the original", () => {
    const r = withWrongLabel(row(124, "12.8"), "13");
    expect(r.reward_model.ground_truth).toBe("13");
    expect(r.extra_info.original_ground_truth).toBe("12.8");
    expect(() => withWrongLabel(row(1, "5"), " 5 ")).toThrow(/equals the gold/);
  });

  it("generated answers are never graded correct against the gold", () => {
    const golds = ["12.8", "24", "-3", "0", "\\frac{4}{3}", "-\\frac{2023}{2024}", "\\left( 3, \\frac{\\pi}{2} \\right)", "x^2+1", "\\sqrt{2}"];
    fc.assert(
      fc.property(fc.constantFrom(...golds), fc.integer(), (gold, seed) => {
        const wrong = wrongAnswerFor(gold, seededRandom(seed));
        expect(wrong).not.toBe(gold);
        expect(verifySync(`\\boxed{${wrong}}`, gold).correct).toBe(false);
      }),
      { numRuns: 60 },
    );
    expect(wrongAnswerFor("12.8", () => 0)).toMatch(/^\d+\.\d$/);
  });

  it("relabels all copies of an example the same way", () => {
    const rows = [row(1, "7"), row(1, "7"), row(2, "9")];
    const out = applyWrongLabels(rows, new Map([[2, "10"]]), 3);
    expect(out[0]!.reward_model.ground_truth).toBe(out[1]!.reward_model.ground_truth);
    expect(out[0]!.reward_model.ground_truth).not.toBe("7");
    expect(out[2]!.reward_model.ground_truth).toBe("10");
    expect(rows[0]!.reward_model.ground_truth).toBe("7");
  });
});
