import { describe, expect, it } from "vitest";
import { CASES, FAMILY_CATEGORIES, responseOf } from "./cases/index.js";
import { QWEN_MATH_CASES } from "./cases/qwenMath.js";
import { GRADERS, GRADER_NAMES, UnknownGraderError, boxedGrader, checkGraderName, qwenMathAnswer, qwenMathGrader } from "./graders/index.js";
import { verifySync } from "./verify.js";

describe("graders by name", () => {
  it("has the two graders", () => expect([...GRADER_NAMES]).toEqual(["boxed", "qwen-math"]));
  it("checks a name and names the key in the error", () => {
    expect(checkGraderName("qwen-math", "--grader")).toBe("qwen-math");
    expect(() => checkGraderName("qwen", "eval.grader")).toThrow(UnknownGraderError);
    expect(() => checkGraderName("qwen", "eval.grader")).toThrow(/eval\.grader: unknown grader "qwen"; use one of "boxed", "qwen-math"/);
  });
  it("boxed is verifySync's default", () => {
    for (const c of CASES.extraction!) expect(boxedGrader(responseOf(c), c.gold)).toEqual(verifySync(responseOf(c), c.gold));
  });
});

describe("qwen-math extraction cascade", () => {
  it.each([
    ["x \\boxed{3} then the answer is 4", "3", "boxed"],
    ["so the answer is $4$.", "4", "the-answer-is"],
    ["so the final answer is 5", "5", "final-answer-is"],
    ["we get 3 then 1,024 apples", "1024", "last-number"],
  ] as const)("%s", (response, answer, via) => expect(qwenMathAnswer(response)).toEqual({ answer, via }));
  it("no number: no answer", () => expect(qwenMathAnswer("nothing")).toBeNull());
});

describe("qwen-math cases (written anew from the protocol's documented behaviour)", () => {
  it.each(QWEN_MATH_CASES.map((c) => [c.why, c] as const))("%s", (_why, c) => {
    expect(qwenMathGrader(c.response, c.gold).correct).toBe(c.qwen);
    expect(boxedGrader(c.response, c.gold).correct).toBe(c.boxed);
  });
});

describe("equivalence families hold in both graders", () => {
  for (const category of FAMILY_CATEGORIES) {
    it.each(CASES[category]!.map((c) => [c.why, c] as const))(`${category}: %s`, (_why, c) => {
      for (const name of GRADER_NAMES) expect({ name, correct: GRADERS[name](responseOf(c), c.gold).correct }).toEqual({ name, correct: c.correct });
    });
  }
});

describe("qwen-math is at least as lenient as boxed", () => {
  const cases = Object.entries(CASES).filter(([k]) => k !== "pathological").flatMap(([, cs]) => cs);
  it(`accepts every case boxed accepts (${cases.length} cases)`, async () => {
    const missed: string[] = [];
    for (const [i, c] of cases.entries()) {
      if (i % 25 === 24) await new Promise<void>((resolve) => setImmediate(resolve)); // a turn for the event loop
      if (boxedGrader(responseOf(c), c.gold).correct && !qwenMathGrader(responseOf(c), c.gold).correct) missed.push(c.why);
    }
    expect(missed).toEqual([]);
  });
});

describe("bench agreement", () => {
  it("the re-implemented verl reference is a normalized exact-string match", async () => {
    const { verlMathCorrect } = await import("./bench/verlMath.js");
    expect(verlMathCorrect("so \\boxed{\\dfrac12}", "0.5")).toBe(true);
    expect(verlMathCorrect("\\boxed{x = 3}", "3")).toBe(true);
    expect(verlMathCorrect("\\boxed{10\\%}", "10")).toBe(true);
    expect(verlMathCorrect("\\boxed{2}", "3")).toBe(false);
    expect(verlMathCorrect("\\boxed{\\frac{2}{4}}", "\\frac12")).toBe(false); // no equivalence beyond the string
    expect(verlMathCorrect("the answer is 3", "3")).toBe(false);
  });
  it("qwen-math agrees with every protocol case; boxed with every case-table verdict", async () => {
    const { agreement } = await import("./bench/agreement.js");
    const a = await agreement();
    expect(a.qwenCases.percent).toBe(100);
    expect(a.labeledCases.boxed).toMatchObject({ percent: 100, falseAccepts: 0 });
    expect(a.verl.boxed.responses).toBeGreaterThan(300);
  });
});
