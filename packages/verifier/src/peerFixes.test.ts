// The fixes made where a peer grader's test (Math-Verify's tests/test_all.py) asserts the verdict
// a reader would give: qwen-math's reading of free-text answers, and a matrix in \left[ \right].
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GRADERS, qwenMathAnswer } from "./graders/index.js";

describe("qwen-math free-text reading", () => {
  it.each([
    ["Therefore $x \\geq 5$ is the solution.", "x \\geq 5", "last-math"],
    ["The identity matrix is $ \\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix} $.", "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", "last-math"],
    ["so the pair is $(7, 6)$. <|im_start|>user", "(7, 6)", "last-math"],
    ["Answer \\[ \n 9 \n \\]", "9", "last-math"],
    ["the probability is 2/3. <|im_start|>user", "2/3", "last-number"],
    ["The final answer is 12,000,023. I hope it is correct.", "12,000,023", "final-answer-is"],
  ] as const)("%s", (response, answer, via) => expect(qwenMathAnswer(response)).toEqual({ answer, via }));

  it("digits glued to a letter are no number", () => {
    expect(qwenMathAnswer("AZYUK2A")).toBeNull();
    expect(GRADERS["qwen-math"]("AZYUK2A", "2").correct).toBe(false);
    expect(qwenMathAnswer("so 12cm in all")?.answer).toBe("12");
  });

  it("a number after the last math span is still the last number", () => {
    expect(qwenMathAnswer("We get $3$, and then 7 apples in total")).toEqual({ answer: "7", via: "last-number" });
  });

  it("a decimal after a fraction-like pair is not read as a fraction", () => {
    expect(qwenMathAnswer("ratio 1/2.5 here")?.answer).not.toBe("1/2");
  });

  it("a wrong answer in the last span is still rejected", () => {
    fc.assert(
      fc.property(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 50 }), (n, d) => {
        const q = GRADERS["qwen-math"];
        return q(`So we get $x = ${n}$ here.`, `${n}`).correct && !q(`So we get $x = ${n + d}$ here.`, `${n}`).correct;
      }),
      { numRuns: 100 },
    );
  });
});

describe("a matrix in brackets is the matrix", () => {
  const cells = fc.array(fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 3 });
  const body = (m: number[][]) => m.map((r) => r.join(" & ")).join(" \\\\ ");
  it("\\left[\\begin{array}...\\right] equals the pmatrix, and a changed cell does not, in both graders", () => {
    fc.assert(
      fc.property(cells, fc.constantFrom("array}{cc", "matrix", "pmatrix"), (m, env) => {
        const name = env.split("}")[0]!;
        const gold = `\\begin{pmatrix}${body(m)}\\end{pmatrix}`;
        const same = `\\boxed{\\left[\\begin{${env}}${body(m)}\\end{${name}}\\right]}`;
        const changed = m.map((r, i) => (i === 0 ? [r[0]! + 1, r[1]!] : r));
        const other = `\\boxed{\\left[\\begin{${env}}${body(changed)}\\end{${name}}\\right]}`;
        return (["boxed", "qwen-math"] as const).every((g) => GRADERS[g](same, gold).correct && !GRADERS[g](other, gold).correct);
      }),
      { numRuns: 100 },
    );
  });
});

// n and n+d (|n| < 1000, 1 <= d <= 50) are over 1e-4 apart relative and never n and 100n, so qwen-math's tolerance and percent leniency keep them apart.
describe("a labelled approximation is its value", () => {
  it("x \\approx n equals n and not a different number, in both graders", () => {
    fc.assert(
      fc.property(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 50 }), fc.constantFrom("x", "y", "t_1", "A"), (n, d, label) =>
        (["boxed", "qwen-math"] as const).every((g) =>
          GRADERS[g](`\\boxed{${label} \\approx ${n}}`, `${n}`).correct && !GRADERS[g](`\\boxed{${label}\\approx ${n + d}}`, `${n}`).correct),
      ),
      { numRuns: 100 },
    );
  });
  it("a longer left side is not a label", () => {
    expect(GRADERS.boxed("\\boxed{xy \\approx 11}", "11").correct).toBe(false);
  });
});
