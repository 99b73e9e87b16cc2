import { describe, expect, it } from "vitest";

import { verifySync } from "@rlvr/verifier";

import {
  DIFFICULTIES,
  FAMILIES,
  INSTRUCTION,
  Rng,
  generateSplits,
  makeProblem,
  pretrainStream,
  randomProblem,
  splitRows,
  unboxed,
} from "../src/index.js";

describe("generator", () => {
  it("is deterministic per seed", () => {
    const a = generateSplits({ seed: 7, trainSize: 50, testSize: 20 });
    const b = generateSplits({ seed: 7, trainSize: 50, testSize: 20 });
    const c = generateSplits({ seed: 8, trainSize: 50, testSize: 20 });
    expect(b).toEqual(a);
    expect(c.test.map((p) => p.question)).not.toEqual(a.test.map((p) => p.question));
    const s1 = pretrainStream(3, new Set());
    const s2 = pretrainStream(3, new Set());
    for (let i = 0; i < 20; i++) expect(s2.next().value).toEqual(s1.next().value);
  });

  it("default splits: 1000 train / 200 test, distinct questions, disjoint, every family and difficulty", () => {
    const s = generateSplits();
    expect(s.train).toHaveLength(1000);
    expect(s.test).toHaveLength(200);
    const q = new Set([...s.train, ...s.test].map((p) => p.question));
    expect(q.size).toBe(1200);
    for (const f of FAMILIES) for (const d of DIFFICULTIES) expect(s.test.some((p) => p.family === f && p.difficulty === d)).toBe(true);
  });

  it("the validation split: 200 more distinct questions, drawn after train and test, which it leaves as they were", () => {
    const s = generateSplits();
    const without = generateSplits({ valSize: 0 });
    expect(s.val).toHaveLength(200);
    expect(without.val).toHaveLength(0);
    expect(s.test).toEqual(without.test);
    expect(s.train).toEqual(without.train);
    expect(new Set([...s.train, ...s.test, ...s.val].map((p) => p.question)).size).toBe(1400);
  });

  it("every worked solution of a sample is verified correct and ends in \\boxed{answer}", () => {
    const r = new Rng(123);
    const problems = [
      ...Array.from({ length: 1500 }, () => randomProblem(r)),
      ...FAMILIES.flatMap((f) => DIFFICULTIES.flatMap((d) => Array.from({ length: 40 }, () => makeProblem(r, f, d)))),
    ];
    for (const p of problems) {
      expect(p.solution.endsWith(`The answer is \\boxed{${p.answer}}.`)).toBe(true);
      expect(Number.isInteger(Number(p.answer)) && Number(p.answer) > 0).toBe(true);
      const v = verifySync(p.solution, p.answer);
      expect(v.correct, `${p.question} -> ${p.solution}`).toBe(true);
      // the format-noise variant has no boxed answer: reward 0
      expect(verifySync(unboxed(p.solution), p.answer).reason).toBe("no-answer");
    }
  });

  it("every step of a worked solution is true arithmetic", () => {
    const r = new Rng(5);
    for (let i = 0; i < 1000; i++) {
      const p = randomProblem(r);
      // "a op b = c" chains, e.g. "x = 98 - 8 = 90" or "19 * 5 = 10 * 5 + 9 * 5"
      for (const sentence of p.solution.split(/\.\s/)) {
        const sides = sentence.replace(/^\d+x = |^x = /, "").split(" = ").filter((s) => /^[\d +\-*/]+$/.test(s));
        const vals = sides.map((s) => Function(`return (${s});`)() as number);
        for (const v of vals) expect(v, `${p.solution}`).toBe(vals[0]);
      }
    }
  });

  it("verl rows carry the chat prompt with the instruction, the gold and the split index", () => {
    const rows = splitRows(generateSplits({ trainSize: 5, testSize: 3 }));
    expect(rows.train.map((r) => r.extra_info.index)).toEqual([0, 1, 2, 3, 4]);
    expect(rows.test.every((r) => r.extra_info.split === "test")).toBe(true);
    for (const row of [...rows.train, ...rows.test]) {
      expect(row.prompt).toHaveLength(1);
      expect(row.prompt[0]!.role).toBe("user");
      expect(row.prompt[0]!.content.endsWith(` ${INSTRUCTION}`)).toBe(true);
      expect(row.reward_model.style).toBe("rule");
      expect(verifySync(String(row.extra_info.solution), row.reward_model.ground_truth).correct).toBe(true);
    }
  });

  it("the pretraining stream skips excluded questions", () => {
    const s = generateSplits({ trainSize: 300, testSize: 100 });
    const exclude = new Set([...s.train, ...s.test].map((p) => p.question));
    const it = pretrainStream(1, exclude);
    for (let i = 0; i < 3000; i++) expect(exclude.has(it.next().value!.question)).toBe(false);
  });
});
