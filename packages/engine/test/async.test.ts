/**
 * The long engine calls run off the JavaScript thread: the event loop turns while one is in
 * flight, calls on one engine run one at a time in call order, and a failure rejects with the
 * typed error without stopping the calls queued after it.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { IndexRangeError, Tensor, ValueError } from "@rlvr/native";

import { Engine, type NativeEngine } from "../src/index.js";
import { expectErr, paddedBatch, randomWeights, tinyConfig } from "./helpers.js";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// big enough that one call spans many turns of the event loop (tens of milliseconds or more)
const CFG = { vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 };
const engine = () => {
  const c = tinyConfig(CFG);
  return Engine.fromWeights(c, randomWeights(c, 7));
};

describe("async engine calls", () => {
  it("the event loop turns while a forwardBackward is in flight", async () => {
    const e = engine();
    const p = paddedBatch(e.config.vocabSize, 32, 48, 3);
    const n = p.batch * p.length;
    const weights = Float32Array.from(p.attentionMask, (m) => m / n);
    let turned = false;
    setImmediate(() => (turned = true));
    const pending = e.forwardBackward({ ...p, weights, oldLogp: new Float32Array(n), advantages: weights, entropyCoeff: 0.1 });
    // the call has started (its arguments were taken) and has not returned its result
    expect(turned).toBe(false);
    const r = await pending;
    expect(turned).toBe(true); // the immediate ran before the result came back
    expect(r.weightSum).toBeGreaterThan(0);
  });

  it("calls queued without awaiting run in call order and give the bits of awaited calls", async () => {
    const p = paddedBatch(CFG.vocab_size, 3, 7, 5);
    const n = p.batch * p.length;
    const fb = { ...p, weights: Float32Array.from(p.attentionMask, (m) => m / n), oldLogp: new Float32Array(n), advantages: p.attentionMask };
    const a = engine(), b = engine();
    // a: one await after the other
    const s1 = await a.score(p);
    await a.forwardBackward(fb);
    const st = await a.optimizerStep({ lr: 1e-2 });
    const s2 = await a.score(p);
    // b: everything queued at once
    const [t1, , tt, t2] = await Promise.all([b.score(p), b.forwardBackward(fb), b.optimizerStep({ lr: 1e-2 }), b.score(p)]);
    expect(bits(t1.logp)).toEqual(bits(s1.logp));
    expect(tt).toEqual(st);
    expect(bits(t2.logp)).toEqual(bits(s2.logp));
    expect(bits(t2.logp)).not.toEqual(bits(t1.logp)); // the step ran between the two scores
  });

  it("a failed call rejects with its typed error; the calls queued after it still run", async () => {
    const e = engine();
    const p = paddedBatch(CFG.vocab_size, 2, 5, 1);
    const bad = e.score({ ...p, inputIds: p.inputIds.map(() => CFG.vocab_size) });
    const good = e.score(p);
    await expectErr(() => bad, IndexRangeError, "inputIds");
    expect((await good).logp.length).toBe(10);
    // a failure inside the engine (decoding past the cache) rejects too
    await e.decode.prefill({ ...p, capacity: 5 });
    await expectErr(() => e.decode.step(new Int32Array([1, 2])), IndexRangeError, "decode");
    e.decode.reset();
  });

  it("synchronous methods refuse to run while calls are queued or running", async () => {
    const e = engine();
    const p = paddedBatch(CFG.vocab_size, 2, 5, 1);
    const pending = e.score(p);
    await expectErr(() => e.parameter("model.norm.weight"), ValueError, "engine");
    await expectErr(() => e.zeroGrad(), ValueError, "engine");
    await expectErr(() => e.decode.reset(), ValueError, "engine");
    expect(e.numParameters).toBeGreaterThan(0); // fixed facts stay readable
    await pending;
    expect(e.parameter("model.norm.weight").length).toBe(CFG.hidden_size);
  });

  it("the native engine refuses a second call while one is in flight (the queue's backstop)", async () => {
    const e = engine();
    const native = (e as unknown as { native: NativeEngine }).native;
    const p = paddedBatch(CFG.vocab_size, 16, 32, 2);
    const t = (d: Int32Array | Float32Array) => Tensor.from(d, [p.batch, p.length]);
    const x = { inputIds: t(p.inputIds), attentionMask: t(p.attentionMask), targets: t(p.targets), temperature: 1 };
    const first = native.score(x);
    await expectErr(() => native.score(x), Error, "engine");
    await expectErr(() => native.getParam("model.norm.weight"), Error, "engine");
    expect(native.backend()).toBe("cpu");
    expect((await first).logp.length).toBe(p.batch * p.length);
    expect(native.getParam("model.norm.weight").length).toBe(CFG.hidden_size);
  });

  it("exitNow ends the process while a call is in flight, with its code (a second Ctrl-C)", async () => {
    const child = join(dirname(fileURLToPath(import.meta.url)), "child", "exitNow.mjs");
    const r = await promisify(execFile)(process.execPath, [child], { encoding: "utf8" }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(130);
    expect(r.stdout).toBe("started\n"); // the forwardBackward never came back
  });
});
