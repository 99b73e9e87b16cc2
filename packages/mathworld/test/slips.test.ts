import { describe, expect, it } from "vitest";

import { verifySync } from "@rlvr/verifier";

import { RECHECK, Rng, firstCarry, generateSplits, slipSites, slipped, writeWithSlips, type Problem } from "../src/index.js";

const pool = generateSplits().train;
const answerOf = (text: string) => /\\boxed\{(\d+)\}/.exec(text)?.[1];

// every "a op b = c." step of a text, with whether it is arithmetically true
function steps(text: string): { a: number; op: string; b: number; c: number; rechecked: boolean }[] {
  return [...text.matchAll(/(Recheck: |x = )?(\d+) ([+-]) (\d+) = (\d+)\./g)].map((m) => ({
    a: Number(m[2]), op: m[3]!, b: Number(m[4]), c: Number(m[5]), rechecked: m[1] === "Recheck: ",
  }));
}
const right = (s: { a: number; op: string; b: number }) => (s.op === "+" ? s.a + s.b : s.a - s.b);

describe("slips and rechecks of the pretraining text", () => {
  it("finds the first carry or borrow and forgets it", () => {
    expect(firstCarry(47, "+", 38)).toBe(10);
    expect(slipped(47, "+", 38)).toBe(75);
    expect(firstCarry(280, "+", 21)).toBe(100);
    expect(slipped(280, "+", 21)).toBe(201);
    expect(firstCarry(52, "-", 17)).toBe(10);
    expect(slipped(52, "-", 17)).toBe(45);
    expect(firstCarry(23, "+", 15)).toBe(0);
    expect(firstCarry(58, "-", 23)).toBe(0);
  });

  it("with no slips and no rechecks the text is the gold solution", () => {
    const r = new Rng(1);
    for (const p of pool.slice(0, 300)) expect(writeWithSlips(p, r, { slipRate: 0, recheckRate: 0 })).toBe(p.solution);
  });

  it("always slipping: every carry/borrow step is off by its place value and the answer follows the chain", () => {
    const r = new Rng(2);
    const slippable = pool.filter((p) => slipSites(p) > 0).slice(0, 100);
    expect(slippable.length).toBe(100);
    let wrong = 0;
    for (const p of slippable) {
      const text = writeWithSlips(p, r, { slipRate: 1, recheckRate: 0 });
      const ss = steps(text);
      for (const s of ss) {
        const place = firstCarry(s.a, s.op as "+" | "-", s.b);
        if (place === 0 || slipped(s.a, s.op as "+" | "-", s.b) <= 0) expect(s.c).toBe(right(s));
        else expect(s.c).not.toBe(right(s));
      }
      // the boxed answer is the last step's written value
      expect(answerOf(text)).toBe(String(ss.at(-1)!.c));
      if (answerOf(text) !== p.answer) wrong++;
    }
    expect(wrong).toBeGreaterThan(50); // not all: a later slip can cancel an earlier one (-10, then +10)
  });

  it("always rechecking: every slip is followed by the right step and the answer is the gold", () => {
    const r = new Rng(3);
    for (const p of pool.filter((q) => slipSites(q) > 0).slice(0, 100)) {
      const text = writeWithSlips(p, r, { slipRate: 1, recheckRate: 1 });
      expect(text).toContain(RECHECK);
      for (const s of steps(text).filter((x) => x.rechecked)) expect(s.c).toBe(right(s));
      expect(verifySync(text, p.answer).correct).toBe(true);
    }
  });

  it("families without add/sub chains never slip", () => {
    const r = new Rng(4);
    const fixed = pool.filter((p: Problem) => p.family === "fraction" || (p.family === "linear" && p.difficulty > 1) || (p.family === "mul" && p.difficulty === 1));
    expect(fixed.length).toBeGreaterThan(100);
    for (const p of fixed) {
      expect(slipSites(p)).toBe(0);
      expect(writeWithSlips(p, r, { slipRate: 1, recheckRate: 1 })).toBe(p.solution);
    }
  });

  it("is deterministic per stream", () => {
    const a = pool.slice(0, 200).map((p) => writeWithSlips(p, new Rng(9), { slipRate: 0.6, recheckRate: 0.25 }));
    const b = pool.slice(0, 200).map((p) => writeWithSlips(p, new Rng(9), { slipRate: 0.6, recheckRate: 0.25 }));
    expect(a).toEqual(b);
  });
});
