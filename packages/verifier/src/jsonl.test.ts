import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { verifyJsonl } from "./jsonl.js";
import { VerifierPool } from "./pool.js";

describe("verifyJsonl (the logic of `rlvr verify --input`)", () => {
  const pool = new VerifierPool({ size: 2 });
  afterAll(() => pool.close());

  it("repeats input fields and adds correct, extracted and reason", async () => {
    const input = [
      JSON.stringify({ id: 1, response: "so \\boxed{12.8}", gold: "\\frac{64}{5}" }),
      JSON.stringify({ id: 2, response: "no box here", gold: "3" }),
      JSON.stringify({ id: 3, response: "\\boxed{27}", gold: 27 }),
      "",
      "not json",
      JSON.stringify({ id: 5, gold: "1" }),
    ].join("\n");
    const lines: string[] = [];
    const summary = await verifyJsonl(Readable.from([input]), (l) => void lines.push(l), pool);
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows[0]).toEqual({ id: 1, response: "so \\boxed{12.8}", gold: "\\frac{64}{5}", correct: true, extracted: "12.8", reason: "equal:exact" });
    expect(rows[1]).toMatchObject({ id: 2, correct: false, extracted: null, reason: "no-answer" });
    expect(rows[2]).toMatchObject({ id: 3, correct: true });
    expect(rows[3]).toMatchObject({ line: 5, correct: false, reason: "invalid-input" });
    expect(rows[4]).toMatchObject({ line: 6, reason: "invalid-input", error: "missing string field `response`" });
    expect(summary).toEqual({ total: 5, correct: 2, invalid: 2, timeouts: 0 });
  });

  it("an empty gold is an invalid line naming the field, not a silent 0", async () => {
    const lines: string[] = [];
    const input = [JSON.stringify({ response: "\\boxed{1}", gold: "1" }), JSON.stringify({ response: "\\boxed{1}", gold: "  " })].join("\n");
    const summary = await verifyJsonl(Readable.from([input]), (l) => void lines.push(l), pool);
    expect(JSON.parse(lines[1]!)).toMatchObject({ line: 2, reason: "invalid-input", error: expect.stringMatching(/^empty field `gold`/) });
    expect(summary).toMatchObject({ total: 2, correct: 1, invalid: 1 });
  });

  it("passes the grader through", async () => {
    const lines: string[] = [];
    await verifyJsonl(Readable.from([JSON.stringify({ response: "So the answer is 42.", gold: "42" })]), (l) => void lines.push(l), pool, { grader: "qwen-math" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ correct: true, extracted: "42" });
  });

  it("passes extraction fallbacks through", async () => {
    const lines: string[] = [];
    await verifyJsonl(Readable.from([JSON.stringify({ response: "The final answer is 42.", gold: "42" })]), (l) => void lines.push(l), pool, { fallbacks: ["final-answer"] });
    expect(JSON.parse(lines[0]!)).toMatchObject({ correct: true, extracted: "42" });
  });
});
