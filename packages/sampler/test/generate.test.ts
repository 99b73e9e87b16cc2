import { ValueError } from "@rlvr/native";
import { describe, expect, it } from "vitest";

import { counterUniform, generate } from "../src/index.js";
import { bigram } from "./bigram.js";

const decode = (ids: Int32Array) => Array.from(ids, (i) => String.fromCharCode(97 + (i % 26))).join("");
const prompts = [Int32Array.from([1, 2]), Int32Array.from([3]), Int32Array.from([4, 5, 6])];

describe("generate", () => {
  it("is reproducible and independent of the batch size", async () => {
    const a = await generate(bigram(11), prompts, { n: 4, maxNewTokens: 12, seed: 7, temperature: 0.8 });
    const b = await generate(bigram(11), prompts, { n: 4, maxNewTokens: 12, seed: 7, temperature: 0.8, maxBatch: 5 });
    expect(a.map((x) => Array.from(x.tokens))).toEqual(b.map((x) => Array.from(x.tokens)));
    const c = await generate(bigram(11), prompts, { n: 4, maxNewTokens: 12, seed: 8, temperature: 0.8 });
    expect(c.map((x) => Array.from(x.tokens))).not.toEqual(a.map((x) => Array.from(x.tokens)));
  });

  it("orders samples prompt-major and gives different samples per prompt", async () => {
    const r = await generate(bigram(11), prompts, { n: 3, maxNewTokens: 10, seed: 1 });
    expect(r.map((x) => [x.promptIndex, x.sampleIndex])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2]]);
    expect(new Set(r.slice(0, 3).map((x) => Array.from(x.tokens).join())).size).toBeGreaterThan(1);
  });

  it("returns log-probs of the sampled tokens at the sampling temperature", async () => {
    const v = 7, m = bigram(v, 3);
    const r = await generate(m, [Int32Array.from([2])], { maxNewTokens: 6, seed: 3, temperature: 0.6 });
    // recompute with a fresh model in float64: log softmax(table[prev] / 0.6)[tok]
    const ref = bigram(v, 3);
    let prev = 2;
    for (const [k, tok] of r[0]!.tokens.entries()) {
      const z = Array.from((await ref.begin([Int32Array.from([prev])])).toArray(), (x) => (x as number) / 0.6);
      const mx = Math.max(...z), lse = mx + Math.log(z.reduce((s, x) => s + Math.exp(x - mx), 0));
      // fp32 kernel vs float64: |error| <~ 1e-6 for logits of magnitude <= 5
      expect(Math.abs(r[0]!.logprobs[k]! - (z[tok]! - lse))).toBeLessThan(2e-6);
      prev = tok;
    }
  });

  it("greedy follows the argmax chain", async () => {
    const v = 9, m = bigram(v, 5), ref = bigram(v, 5);
    const r = await generate(m, [Int32Array.from([0])], { maxNewTokens: 8, temperature: 0 });
    let prev = 0;
    for (const tok of r[0]!.tokens) {
      const z = Array.from((await ref.begin([Int32Array.from([prev])])).toArray());
      expect(tok).toBe(z.indexOf(Math.max(...(z as number[]))));
      prev = tok;
    }
  });

  it("stops at EOS, stop strings, max tokens and the context limit", async () => {
    const m = bigram(5, 9);
    const greedy = (await generate(m, [Int32Array.from([0])], { maxNewTokens: 20, temperature: 0 }))[0]!;
    const eosTok = greedy.tokens[3]!;
    const firstEos = Array.from(greedy.tokens).indexOf(eosTok);
    const e = (await generate(bigram(5, 9), [Int32Array.from([0])], { maxNewTokens: 20, temperature: 0, eosIds: [eosTok] }))[0]!;
    expect(e.finishReason).toBe("eos");
    expect(e.tokens.length).toBe(firstEos + 1);

    const text = decode(greedy.tokens);
    const stop = text.slice(4, 6);
    const s = (await generate(bigram(5, 9), [Int32Array.from([0])], { maxNewTokens: 20, temperature: 0, stop: [stop], decode }))[0]!;
    expect(s.finishReason).toBe("stop");
    expect(s.text).toBe(text.slice(0, text.indexOf(stop)));

    const l = (await generate(bigram(5, 9), [Int32Array.from([0])], { maxNewTokens: 4 }))[0]!;
    expect([l.finishReason, l.tokens.length]).toEqual(["length", 4]);

    const c = (await generate(bigram(5, 9, 6), [Int32Array.from([0, 1, 2])], { maxNewTokens: 50 }))[0]!;
    expect([c.finishReason, c.tokens.length]).toEqual(["context", 3]);
  });

  it("only steps the rows still running", async () => {
    const m = bigram(5, 9);
    await generate(m, [Int32Array.from([0]), Int32Array.from([1])], { n: 2, maxNewTokens: 3 });
    expect(m.calls).toEqual([4, 4, 4]);
  });

  it("reports progress after the prefill and each decode step, rows done and tokens counted", async () => {
    const m = bigram(5, 9);
    const seen: { rowsDone: number; rowsTotal: number; tokens: number }[] = [];
    const chunks: [number, number][] = [];
    const r = await generate(m, prompts, {
      n: 2, maxNewTokens: 6, seed: 4, temperature: 0.9, eosIds: [3], maxBatch: 4,
      onDecodeStep: (p) => seen.push(p), onProgress: (done, total) => chunks.push([done, total]),
    });
    // one report per model call: the prefill and every step of each session
    expect(seen).toHaveLength(m.calls.length + 2); // + the last step of each of the 2 sessions (nothing left to step)
    expect(chunks).toEqual([[4, 6], [6, 6]]);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.rowsDone).toBeGreaterThanOrEqual(seen[i - 1]!.rowsDone);
      expect(seen[i]!.tokens).toBeGreaterThanOrEqual(seen[i - 1]!.tokens);
    }
    expect(seen[0]).toEqual({ rowsDone: 0, rowsTotal: 6, tokens: 0 });
    expect(seen.at(-1)).toEqual({ rowsDone: 6, rowsTotal: 6, tokens: r.reduce((a, x) => a + x.tokens.length, 0) });
  });

  it("stops at the next decode step once its signal is aborted, ending the session", async () => {
    const m = bigram(5, 9);
    let ended = 0;
    const abort = new AbortController();
    const model: StepModel = { ...m, begin: (p) => m.begin(p), step: (r, t) => m.step(r, t), end: () => void ended++ };
    const o = { n: 2, maxNewTokens: 20, temperature: 0.9, signal: abort.signal, onDecodeStep: (p: { tokens: number }) => p.tokens >= 8 && abort.abort("stop") };
    await expect(generate(model, prompts, o)).rejects.toBe("stop");
    expect(ended).toBe(1);
    expect(m.calls.length).toBeLessThan(6); // it did not run on to 20 tokens
  });

  it("awaits a model whose calls return promises: the same samples", async () => {
    const sync = bigram(11);
    const lazy = bigram(11);
    const async_: StepModel = {
      vocabSize: 11, maxSequenceLength: 64,
      begin: (p) => new Promise((res) => setImmediate(() => res(lazy.begin(p)))),
      step: (rows, tokens) => new Promise((res) => setImmediate(() => res(lazy.step(rows, tokens)))),
      end: () => {},
    };
    const o = { n: 3, maxNewTokens: 9, seed: 2, temperature: 0.7, maxBatch: 4 };
    const a = await generate(sync, prompts, o), b = await generate(async_, prompts, o);
    expect(b.map((x) => Array.from(x.tokens))).toEqual(a.map((x) => Array.from(x.tokens)));
    expect(b.map((x) => Array.from(x.logprobs))).toEqual(a.map((x) => Array.from(x.logprobs)));
  });

  it("rejects bad options with the field named", async () => {
    const m = bigram(5);
    await expect(generate(m, prompts, { maxNewTokens: 0 })).rejects.toThrow(ValueError);
    await expect(generate(m, prompts, { maxNewTokens: 3, eosIds: [5] })).rejects.toThrow(/eosIds/);
    await expect(generate(m, prompts, { maxNewTokens: 3, stop: ["x"] })).rejects.toThrow(/decode/);
    await expect(generate(bigram(5, 1, 3), [Int32Array.from([1, 2, 3])], { maxNewTokens: 3 })).rejects.toThrow(/context/);
  });

  it("counter uniforms are in [0, 1) and vary with every coordinate", async () => {
    const us = new Set<number>();
    for (let r = 0; r < 50; r++) for (let t = 0; t < 50; t++) {
      const u = counterUniform(1, r, t);
      expect(u >= 0 && u < 1).toBe(true);
      us.add(u);
    }
    expect(us.size).toBeGreaterThan(2490);
    expect(counterUniform(2, 0, 0)).not.toBe(counterUniform(1, 0, 0));
  });
});
