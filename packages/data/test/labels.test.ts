import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifySync } from "@rlvr/verifier";
import { DataError, PAPER_PI1_LABELS, applyFixedLabel, applyWrongLabels, checkGolds, seededRandom, withWrongLabel, wrongAnswerFor } from "../src/index.js";
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

describe("a fixed wrong label (data.wrongLabel)", () => {
  it("sets the paper's labels on every copy of pi_1, keeping the original", () => {
    const rows = [row(124, "12.8"), row(124, "12.8")];
    for (const label of PAPER_PI1_LABELS) {
      const out = applyFixedLabel(rows, label, "pi1.parquet");
      expect(out.map((r) => r.reward_model.ground_truth)).toEqual([label, label]);
      expect(out.every((r) => r.extra_info.original_ground_truth === "12.8")).toBe(true);
      expect(verifySync(`\\boxed{${label}}`, out[0]!.reward_model.ground_truth).correct).toBe(true);
    }
    expect(applyFixedLabel(rows, 9292725)[0]!.reward_model.ground_truth).toBe("9292725");
    expect(rows[0]!.reward_model.ground_truth).toBe("12.8");
  });
  it("refuses several examples, an empty label and the gold itself", () => {
    expect(() => applyFixedLabel([row(1), row(2)], "4", "mix.parquet")).toThrow(/mix\.parquet holds 2 different examples/);
    expect(() => applyFixedLabel([row(1)], " ")).toThrow(DataError);
    expect(() => applyFixedLabel([row(124, "12.8")], "12.8")).toThrow(/equals the gold/);
  });
});

describe("empty golds are an error at load time", () => {
  it("names the file, the row and the example", () => {
    expect(() => checkGolds([row(0), row(7, " "), row(9, "")], "train/dsr.parquet")).toThrow(
      /train\/dsr\.parquet: 2 row\(s\) with an empty reward_model\.ground_truth: row 1 \(extra_info\.index 7\), row 2 \(extra_info\.index 9\)/,
    );
    expect(() => checkGolds([row(0), row(1)], "ok.parquet")).not.toThrow();
  });
});
