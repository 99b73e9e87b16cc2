/**
 * The engine's native rollout (engine.decode.rollout, OpsModel::rollout) against generate()'s
 * JavaScript loop over prefill / step on the same "ops-cpu" engine: tokens, log-probs and
 * finish reasons equal bit for bit, whatever the slot count (continuous batching refills,
 * window shifts and slot moves all happen in these runs).
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { type Engine, rolloutUniforms } from "@rlvr/engine";
import { ValueError } from "@rlvr/native";
import { describe, expect, it } from "vitest";

import { type GenerateOptions, type Sample, type StepModel, counterUniform, engineStepModel, generate } from "../src/index.js";
import { prompts, smallEngine } from "./rolloutModel.js";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const view = (s: Sample[]) => s.map((x) => ({ p: x.promptIndex, k: x.sampleIndex, tokens: Array.from(x.tokens), logp: bits(x.logprobs), finish: x.finishReason }));

/** The engine's step model without its rollout: generate() takes the JavaScript loop. */
function jsOnly(e: Engine, maxNewTokens: number): StepModel {
  const { rollout: _, ...m } = engineStepModel(e, { maxNewTokens });
  return m;
}

async function both(e: Engine, ps: Int32Array[], o: GenerateOptions) {
  const native = engineStepModel(e, { maxNewTokens: o.maxNewTokens });
  expect(native.rollout).toBeDefined();
  const a = await generate(jsOnly(e, o.maxNewTokens), ps, o);
  const b = await generate(native, ps, o);
  return { js: view(a), native: view(b) };
}

const counts = (v: { finish: string }[]) => v.reduce<Record<string, number>>((c, x) => ((c[x.finish] = (c[x.finish] ?? 0) + 1), c), {});

describe("native rollout == generate's JavaScript loop, bit for bit (ops-cpu)", () => {
  const e = smallEngine();
  const V = e.config.vocabSize;
  const ps = prompts([5, 1, 9, 3], V);

  it("sampling with top-p / top-k, n > 1, prompts of different lengths, fewer slots than rows", async () => {
    const o = { n: 3, temperature: 0.9, topP: 0.9, topK: 12, maxNewTokens: 14, seed: 11, eosIds: [5, 19], maxBatch: 5 };
    const { js, native } = await both(e, ps, o);
    expect(native).toEqual(js);
    expect(counts(js).eos, "some rows end at EOS").toBeGreaterThan(0);
    expect(counts(js).length, "some rows run to maxNewTokens").toBeGreaterThan(0);
  });

  it("greedy (temperature 0), log-probs at temperature 1", async () => {
    const { js, native } = await both(e, ps, { n: 2, temperature: 0, maxNewTokens: 10, eosIds: [14], maxBatch: 3 });
    expect(native).toEqual(js);
  });

  it("the context limit (prompt + response reaches max positions) and a log-prob temperature", async () => {
    const long = prompts([30, 36, 12], V, 8); // context 40
    const o = { n: 2, temperature: 1.1, logprobTemperature: 0.7, maxNewTokens: 20, seed: 3, maxBatch: 2 };
    const { js, native } = await both(e, long, o);
    expect(native).toEqual(js);
    expect(counts(js).context).toBeGreaterThan(0);
  });

  it("does not depend on the slot count (slots = 1, 2, 7, more than the rows)", async () => {
    const o = { n: 4, temperature: 0.8, topP: 0.95, maxNewTokens: 12, seed: 5, eosIds: [6, 31] };
    const ref = view(await generate(jsOnly(e, 12), ps, o));
    expect(Object.keys(counts(ref)).sort()).toEqual(["eos", "length"]);
    for (const maxBatch of [1, 2, 7, 100]) {
      expect(view(await generate(engineStepModel(e, { maxNewTokens: 12 }), ps, { ...o, maxBatch })), `slots ${maxBatch}`).toEqual(ref);
    }
  });

  it("identical prompts (the 1-shot case) and one prompt with many samples", async () => {
    const one = prompts([7], V, 21)[0]!;
    const same = [one, one, Int32Array.from(one), one];
    const o = { n: 3, temperature: 1, maxNewTokens: 9, seed: 9, eosIds: [5], maxBatch: 4 };
    const { js, native } = await both(e, same, o);
    expect(native).toEqual(js);
    const many = await both(e, [one], { ...o, n: 16, maxBatch: 5 });
    expect(many.native).toEqual(many.js);
    expect(new Set(many.js.map((x) => x.tokens.join())).size).toBeGreaterThan(1);
  });

  it("a Qwen3 (q/k norm) model with untied embeddings", async () => {
    const q3 = smallEngine({ architectures: ["Qwen3ForCausalLM"], model_type: "qwen3", tie_word_embeddings: false }, "ops-cpu", 7);
    const { js, native } = await both(q3, ps, { n: 2, temperature: 0.7, topK: 5, maxNewTokens: 11, seed: 4, eosIds: [25, 36], maxBatch: 3 });
    expect(native).toEqual(js);
  });

  it("ignoreEos runs every row to its length; results come back as flat arrays", async () => {
    const r = await e.decode.rollout({ prompts: ps, n: 2, maxNewTokens: 6, eosIds: [0, 1, 2, 3, 4, 5], ignoreEos: true, slots: 3 });
    expect(r.finish).toEqual(Array(8).fill("length"));
    expect(Array.from(r.offsets)).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48]);
    expect(r.tokens.length).toBe(48);
    expect(r.logprobs.every((x) => x <= 0 && Number.isFinite(x))).toBe(true);
  });

  it("forcedLengths (benchmarks): rows end at their lengths, EOS ignored, as the JavaScript loop", async () => {
    const lengths = Int32Array.from([3, 12, 1, 7, 20, 5, 9, 2]); // 20 > maxNewTokens: "length"
    const o = { n: 2, temperature: 1, maxNewTokens: 14, seed: 6, eosIds: [0, 1, 2, 3, 4, 5, 6, 7], maxBatch: 3, forcedLengths: lengths };
    const { js, native } = await both(e, ps, o);
    expect(native).toEqual(js);
    expect(js.map((x) => x.tokens.length)).toEqual([3, 12, 1, 7, 14, 5, 9, 2]);
    expect(js.map((x) => x.finish)).toEqual(["eos", "eos", "eos", "eos", "length", "eos", "eos", "eos"]);
    await expect(e.decode.rollout({ prompts: ps, n: 2, maxNewTokens: 4, forcedLengths: Int32Array.from([1, 2]) })).rejects.toThrow(/forcedLengths: expected one length per row \(8\)/);
    await expect(e.decode.rollout({ prompts: ps, n: 1, maxNewTokens: 4, forcedLengths: Int32Array.from([1, 0, 2, 2]) })).rejects.toThrow(ValueError);
  });

  it("reports progress from the native loop; the last report has the totals", async () => {
    const seen: { rowsDone: number; rowsTotal: number; tokens: number }[] = [];
    const done: [number, number][] = [];
    const r = await generate(engineStepModel(e, { maxNewTokens: 8 }), ps, {
      n: 2, maxNewTokens: 8, seed: 2, maxBatch: 3, onDecodeStep: (p) => seen.push(p), onProgress: (a, b) => done.push([a, b]),
    });
    expect(seen[0]).toEqual({ rowsDone: 0, rowsTotal: 8, tokens: 0 });
    expect(seen.at(-1)).toEqual({ rowsDone: 8, rowsTotal: 8, tokens: r.reduce((a, x) => a + x.tokens.length, 0) });
    expect(done).toEqual([[8, 8]]);
  });

  it("stop strings keep the JavaScript loop", async () => {
    const m = engineStepModel(e, { maxNewTokens: 6 });
    const spy: StepModel = { ...m, rollout: () => Promise.reject(new Error("the native rollout must not run with stop strings")) };
    const decode = (ids: Int32Array) => Array.from(ids, (i) => String.fromCharCode(97 + (i % 26))).join("");
    const r = await generate(spy, ps, { maxNewTokens: 6, stop: ["zz"], decode, seed: 1 });
    expect(r).toHaveLength(4);
  });

  it("an aborted signal rejects with its reason before any work", async () => {
    const c = new AbortController();
    c.abort("stop");
    await expect(generate(engineStepModel(e, { maxNewTokens: 4 }), ps, { maxNewTokens: 4, signal: c.signal })).rejects.toBe("stop");
  });
});

describe("native rollout: bad input", () => {
  const e = smallEngine();
  const ps = prompts([3, 4], e.config.vocabSize);
  const field = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(ValueError);
      return (err as ValueError).argument;
    }
    throw new Error("expected a rejection");
  };

  it("names the field; the engine stays usable", async () => {
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 0 }))).toBe("maxNewTokens");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, slots: 0 }))).toBe("slots");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, n: 0 }))).toBe("n");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, eosIds: [61] }))).toBe("eosIds");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, eosIds: [-1] }))).toBe("eosIds");
    expect(await field(e.decode.rollout({ prompts: [], maxNewTokens: 3 }))).toBe("prompts");
    expect(await field(e.decode.rollout({ prompts: [ps[0]!, new Int32Array(0)], maxNewTokens: 3 }))).toBe("prompts");
    expect(await field(e.decode.rollout({ prompts: [new Int32Array(40).fill(3)], maxNewTokens: 3 }))).toBe("prompts");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, temperature: -1 }))).toBe("temperature");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, topP: 0 }))).toBe("topP");
    expect(await field(e.decode.rollout({ prompts: ps, maxNewTokens: 3, logprobTemperature: 0 }))).toBe("logprobTemperature");
    const r = await e.decode.rollout({ prompts: ps, maxNewTokens: 3 });
    expect(r.finish).toHaveLength(2);
  });

  it("rejects a KV pool over 64 GB before allocating it, naming slots", async () => {
    await expect(e.decode.rollout({ prompts: ps, n: 1e7, slots: 1e7, maxNewTokens: 30 })).rejects.toMatchObject({ name: "IndexRangeError", argument: "slots" });
  });

  it("rejects token ids outside the vocabulary", async () => {
    await expect(e.decode.rollout({ prompts: [Int32Array.from([1, 61])], maxNewTokens: 3 })).rejects.toMatchObject({ argument: "prompts" });
  });

  it('is on the "cpu" backend too (OpsModel on the fast CPU ops), with the same tokens as "ops-cpu"', async () => {
    const c = smallEngine({}, "cpu");
    expect(c.nativeRollout).toBe(true);
    expect(e.nativeRollout).toBe(true);
    expect(engineStepModel(c, { maxNewTokens: 3 }).rollout).toBeDefined();
    const [a, b] = [await c.decode.rollout({ prompts: ps, maxNewTokens: 3 }), await e.decode.rollout({ prompts: ps, maxNewTokens: 3 })];
    expect(JSON.stringify(a.tokens)).toBe(JSON.stringify(b.tokens));
  });
});

describe("the rollout's uniforms", () => {
  it("equal counterUniform bit for bit, streams beyond 2^32 included", () => {
    const streams: number[] = [], steps: number[] = [];
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 4000; i++) {
      const big = i % 4 === 0 ? next() * 2 ** 21 + next() % 2 ** 21 : i % 4 === 1 ? 2 ** 32 + (next() % 1000) : next() % 5000;
      streams.push(Math.min(big, Number.MAX_SAFE_INTEGER));
      steps.push(i % 3 === 0 ? next() : next() % 4096);
    }
    streams.push(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER);
    steps.push(0, 2 ** 32 - 1, 1, 7);
    for (const seed of [0, 1, 0xdeadbeef, 2 ** 32 - 1]) {
      const native = rolloutUniforms(seed, Float64Array.from(streams), Float64Array.from(steps));
      const js = Float32Array.from(streams, (s, i) => counterUniform(seed, s, steps[i]!));
      expect(bits(native)).toEqual(bits(js));
    }
  });
});

describe("thread count", () => {
  it("the native rollout gives the same bits with 1 and 3 threads", async () => {
    const child = join(dirname(fileURLToPath(import.meta.url)), "child", "rolloutRun.mjs");
    const run = async (threads: number) =>
      (await promisify(execFile)(process.execPath, [child], { env: { ...process.env, RLVR_NUM_THREADS: String(threads) }, encoding: "utf8" })).stdout.trim();
    const a = await run(1), b = await run(3);
    expect(a).toMatch(/^[0-9]+$/);
    expect(b).toBe(a);
  });
});
