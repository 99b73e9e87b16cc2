/**
 * The critic (value head): golden values, value loss and every parameter gradient against
 * fixtures/make_golden.py's qwen2_critic (float64 PyTorch autograd), plus the API's
 * contracts. Tolerances as golden.test.ts: the body's fp32 error reaches the hidden state
 * at a few 1e-6 relative; a value is a 32-term dot product of it with |score.w| <~ 1.5, so
 * values carry ~1e-5 absolute error (bound 1e-4); the loss 1e-5 + 1e-4 relative; gradients
 * per tensor 1e-4 of the tensor's max (terms of the sum over tokens cancel).
 */
import { describe, expect, it } from "vitest";

import { ValueError, ShapeError } from "@rlvr/native";

import { Engine, criticTensorShapes } from "../src/index.js";
import { expectErr, loadFixture, maxAbs, paddedBatch, randomWeights, tinyConfig, toI32 } from "./helpers.js";

describe("critic golden (qwen2 body + score head, clipped value loss)", async () => {
  const g = await loadFixture("qwen2_critic");
  const clip = JSON.parse(g.metadata.clip!) as number;
  const x = { batch: g.batch, length: g.length, inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask! };
  const resp = Float32Array.from(g.t.weights!, (w) => (w !== 0 ? 1 : 0));

  it("values match on the scored rows, 0 elsewhere", async () => {
    const e = Engine.fromWeights(g.config, g.weights, { valueHead: true });
    const v = await e.values({ ...x, scoreMask: resp });
    for (let r = 0; r < resp.length; r++) {
      if (resp[r] === 0) expect(v[r]).toBe(0);
      else expect(Math.abs(v[r]! - g.t.values![r]!)).toBeLessThanOrEqual(1e-4);
    }
  });

  it("valueForwardBackward: loss, clip fraction and every parameter gradient", async () => {
    const e = Engine.fromWeights(g.config, g.weights, { valueHead: true });
    const r = await e.valueForwardBackward({ ...x, weights: g.t.weights!, oldValues: g.t.old_values!, returns: g.t.returns!, clip });
    const [total, clipFrac] = g.t.stats!;
    expect(Math.abs(r.loss - total!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(total!));
    expect(r.clipFrac).toBeCloseTo(clipFrac!, 6);
    expect(clipFrac).toBeGreaterThan(0.1); // the fixture exercises both branches
    expect(clipFrac).toBeLessThan(0.9);
    expect(r.weightSum).toBeCloseTo(1, 5);
    // the values it trained on are values() bit for bit (same body, same head code)
    expect(Array.from(r.values)).toEqual(Array.from(await e.values({ ...x, scoreMask: resp })));
    expect([...g.grads.keys()].sort()).toEqual(e.parameterNames().sort());
    for (const [name, ref] of g.grads) {
      const grad = e.gradient(name);
      let err = 0;
      for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(grad[i]! - ref[i]!));
      const bound = 1e-4 * maxAbs(ref) + 1e-6;
      expect(err, `${name}: max err ${err} vs bound ${bound}`).toBeLessThanOrEqual(bound);
    }
  });
});

describe("critic engine", () => {
  const config = tinyConfig();
  const actor = randomWeights(config, 3);
  const p = paddedBatch(config.vocabSize, 3, 6, 2);
  const w = Float32Array.from(p.attentionMask, (m) => m / 12);

  it("starts from the actor's body with a zero head: values 0, parameters named like HF", async () => {
    const c = Engine.fromWeights(config, actor, { valueHead: true });
    expect(c.valueHead).toBe(true);
    expect(c.parameterNames()).toContain("score.weight");
    expect(c.parameterNames()).not.toContain("lm_head.weight");
    expect(Array.from(await c.values(p)).every((v) => v === 0)).toBe(true);
    expect(Array.from(c.parameter("model.norm.weight"))).toEqual(Array.from(actor.get("model.norm.weight")!.data));
    const exported = c.exportWeights();
    expect([...exported.keys()].sort()).toEqual([...criticTensorShapes(config).keys()].sort());
    expect(exported.get("score.bias")!.shape).toEqual([1]);
  });

  it("gradients accumulate over micro-batches to the whole batch's", async () => {
    const head = new Map(actor);
    const r = new Float32Array(16).map((_, i) => Math.sin(i) * 0.3);
    head.set("score.weight", { shape: [1, 16], data: r });
    head.set("score.bias", { shape: [1], data: new Float32Array([0.1]) });
    const returns = Float32Array.from(p.attentionMask, (m, i) => m * Math.cos(i));
    const old = Float32Array.from(p.attentionMask, (m, i) => m * 0.2 * Math.sin(3 * i));
    const whole = Engine.fromWeights(config, head, { valueHead: true });
    const all = await whole.valueForwardBackward({ ...p, weights: w, oldValues: old, returns, clip: 0.3 });
    const parts = Engine.fromWeights(config, head, { valueHead: true });
    let loss = 0;
    for (const [a, b] of [[0, 1], [1, 3]] as const) {
      const sl = <T extends Float32Array | Int32Array>(v: T) => v.slice(a * 6, b * 6) as T;
      loss += (await parts.valueForwardBackward({
        batch: b - a, length: 6, inputIds: sl(p.inputIds), attentionMask: sl(p.attentionMask),
        weights: sl(w), oldValues: sl(old), returns: sl(returns), clip: 0.3,
      })).loss;
    }
    expect(loss).toBeCloseTo(all.loss, 6);
    for (const name of whole.parameterNames()) {
      const g1 = whole.gradient(name), g2 = parts.gradient(name);
      const bound = 1e-5 * maxAbs(g1) + 1e-7; // the same terms summed in another order
      for (let i = 0; i < g1.length; i++) expect(Math.abs(g1[i]! - g2[i]!)).toBeLessThanOrEqual(bound);
    }
  });

  it("AdamW steps on the value loss fit fixed returns", async () => {
    const c = Engine.fromWeights(config, actor, { valueHead: true });
    const returns = Float32Array.from(p.attentionMask, (m, i) => m * (i % 2 === 0 ? 1 : -0.5));
    let first = 0, last = 0;
    for (let s = 0; s < 30; s++) {
      const old = await c.values(p);
      const r = await c.valueForwardBackward({ ...p, weights: w, oldValues: old, returns, clip: 10 });
      if (s === 0) first = r.loss;
      last = r.loss;
      await c.optimizerStep({ lr: 3e-2, weightDecay: 0 });
    }
    expect(last).toBeLessThan(0.5 * first);
  });

  it("errors: LM-head paths on a critic, value paths on a policy, bad arguments", async () => {
    const c = Engine.fromWeights(config, actor, { valueHead: true });
    const policy = Engine.fromWeights(config, actor);
    await expectErr(() => c.score(p), ValueError, "engine");
    await expectErr(() => c.decode.prefill({ ...p, capacity: 8 }), ValueError, "engine");
    // no native rollout on a critic either: the same typed error, and the engine says so up front
    expect([c.nativeRollout, policy.nativeRollout]).toEqual([false, true]);
    await expectErr(() => c.decode.rollout({ prompts: [Int32Array.of(1, 2)], maxNewTokens: 2 }), ValueError, "engine");
    await expectErr(() => policy.values(p), ValueError, "engine");
    const ok = { ...p, weights: w, oldValues: new Float32Array(18), returns: new Float32Array(18) };
    await expectErr(() => c.valueForwardBackward({ ...ok, clip: 0 }), ValueError, "clip");
    await expectErr(() => c.valueForwardBackward({ ...ok, returns: new Float32Array(17) }), ShapeError, "returns");
    await expectErr(() => c.valueForwardBackward({ ...ok, oldValues: new Float32Array(18).fill(Number.NaN) }), ValueError, "oldValues");
    const body = new Map(actor);
    body.delete("model.norm.weight");
    await expectErr(() => Engine.fromWeights(config, body, { valueHead: true }), ShapeError, "weights");
  });
});
