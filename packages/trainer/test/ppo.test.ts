// PPO with a critic (algorithm.advEstimator = gae) end to end on the tiny model: the critic
// trains, is checkpointed as a token-classification model, resumes bit for bit, and its
// warm-up leaves the actor untouched.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { readMetrics, type StepMetrics } from "@rlvr/data";
import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";
import { aggregationWeightsRef, gaeRef, valueLossRef } from "@rlvr/native/reference";
import { engineStepModel, generate } from "@rlvr/sampler";

import { randomFloats } from "../../model/src/testing/fixtures.js";
import {
  criticValues, findLatestCheckpoint, gaeAdvantages, listCheckpoints, readCriticCheckpoint, responseMask, responseWidth, train,
  updateCritic, type Rollout,
} from "../src/index.js";
import { parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

const DETERMINISTIC = [
  "step", "reward_mean", "train_acc", "entropy", "response_length_mean", "kl", "clip_frac", "pg_loss", "grad_norm",
  "vf_loss", "vf_clip_frac", "critic_grad_norm", "values_mean", "returns_mean",
] as const;
const pick = (m: StepMetrics) => Object.fromEntries(DETERMINISTIC.map((k) => [k, (m as Record<string, unknown>)[k]]));

const ppo = (extra: Record<string, unknown> = {}) => ({
  algorithm: { advEstimator: "gae", lambda: 0.95 },
  critic: { lr: 1e-2, cliprangeValue: 0.5 },
  actor: { ppoMiniBatchSize: 2 },
  trainer: { totalSteps: 3, testFreq: 0, saveFreq: 1 },
  eval: { beforeTrain: false },
  ...extra,
});

describe("PPO pieces against references from the same rollouts", () => {
  it("critic values do not depend on micro-batching; GAE and the first value loss match the references", async () => {
    const m = await loadModelDir(await tinyModelDir(5));
    const actor = Engine.fromWeights(m.config, m.weights!);
    const head = new Map(m.weights!);
    head.set("score.weight", { shape: [1, m.config.hiddenSize], data: randomFloats(m.config.hiddenSize, 77, 0.5) });
    head.set("score.bias", { shape: [1], data: new Float32Array([0.2]) });
    const critic = Engine.fromWeights(m.config, head, { valueHead: true });
    const prompts = [Int32Array.from(m.tokenizer.encode("1+1 =")), Int32Array.from(m.tokenizer.encode("12*3 ="))];
    const samples = await generate(engineStepModel(actor, { maxNewTokens: 7 }), prompts, { n: 4, temperature: 0.6, maxNewTokens: 7, seed: 21, decode: (t) => m.tokenizer.decode(Array.from(t)) });
    const rollouts: Rollout[] = samples.map((s) => ({
      promptIds: prompts[s.promptIndex]!, responseIds: s.tokens, oldLogp: s.logprobs, text: s.text!, finishReason: s.finishReason,
      group: s.promptIndex, exampleIndex: s.promptIndex, gold: "2",
    }));
    const W = responseWidth(rollouts), mask = responseMask(rollouts, W);
    const v8 = await criticValues(critic, rollouts, W, 8), v3 = await criticValues(critic, rollouts, W, 3), v1 = await criticValues(critic, rollouts, W, 1);
    // other padding, same real tokens: equal up to fp32 reassociation in the padded GEMM rows (none expected)
    for (let k = 0; k < v8.length; k++) {
      expect(Math.abs(v8[k]! - v1[k]!)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(v3[k]! - v1[k]!)).toBeLessThanOrEqual(1e-6);
      if (mask[k] === 0) expect(v8[k]).toBe(0);
    }
    // repeated rollouts: each distinct sequence runs once, its row copied (the same values as v1's rows)
    const order = [0, 3, 0, 5, 3, 3];
    const vr = await criticValues(critic, order.map((i) => rollouts[i]!), W, 8);
    for (const [k, i] of order.entries()) expect(vr.subarray(k * W, (k + 1) * W)).toEqual(await criticValues(critic, [rollouts[i]!], W, 1));
    const scores = Float32Array.from(rollouts, (_, i) => i % 2);
    const g = gaeAdvantages(scores, v1, mask, W, { gamma: 1, lambda: 0.9 });
    const rewards = new Float32Array(mask.length);
    rollouts.forEach((r, i) => { rewards[i * W + r.responseIds.length - 1] = scores[i]!; });
    const ref = gaeRef(rewards, v1, mask, rollouts.length, W, 1, 0.9, true);
    g.advantages.forEach((a, k) => expect(a).toBeCloseTo(ref.advantages[k]!, 5));
    g.returns.forEach((a, k) => expect(a).toBeCloseTo(ref.returns[k]!, 5));
    // first epoch: current values == old values, so nothing is clipped and the loss is ½·mean (v − R)²
    const st = await updateCritic(critic, { rollouts, width: W, mask, oldValues: v1, returns: g.returns }, {
      clip: 0.2, miniBatch: 8, microBatch: 3, ppoEpochs: 1,
      optimizer: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 },
    });
    const w = aggregationWeightsRef(mask, rollouts.length, W, "token-mean");
    const vl = valueLossRef(v1, v1, g.returns, w, 0.2);
    expect(Math.abs(st.vfLoss - vl.loss)).toBeLessThanOrEqual(1e-6 + 1e-5 * vl.loss);
    expect(st.vfClipFrac).toBe(0);
    expect(st.gradNorms).toHaveLength(1);
    expect(st.gradNorms[0]).toBeGreaterThan(0);
  });
});

describe("PPO with a critic (tiny model, CPU)", () => {
  it("trains: value-loss metrics, the critic learns and is checkpointed as Qwen2ForTokenClassification", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "ppo")];
    const r = await train({ config: tinyConfig(model, data, ppo()), outDir: out, reward: parityReward });
    expect(r.metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const m of r.metrics) {
      const x = m as StepMetrics & Record<string, number>;
      expect(x.vf_loss).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(x.values_mean)).toBe(true);
      expect(m.phase_s.values).toBeGreaterThan(0);
      expect(m.phase_s.critic).toBeGreaterThan(0);
    }
    // step 1: the zero head gives values 0, so the returns are the rewards (gamma = 1)
    const m1 = r.metrics[0] as StepMetrics & Record<string, number>;
    expect(m1.values_mean).toBe(0);
    expect(m1.vf_loss).toBeGreaterThan(0);
    // later steps see values from the trained head
    expect((r.metrics[2] as StepMetrics & Record<string, number>).values_mean).not.toBe(0);
    const ck = findLatestCheckpoint(out)!;
    const critic = (await readCriticCheckpoint(ck.dir))!;
    expect(critic.weights.has("score.weight")).toBe(true);
    expect(critic.weights.has("lm_head.weight")).toBe(false);
    expect(Array.from(critic.weights.get("score.weight")!.data).some((v) => v !== 0)).toBe(true);
    expect(critic.optimizer.step).toBe(3);
    const cfg = JSON.parse(readFileSync(join(ck.dir, "critic", "config.json"), "utf8")) as { architectures: string[]; num_labels: number };
    expect(cfg.architectures).toEqual(["Qwen2ForTokenClassification"]);
    expect(cfg.num_labels).toBe(1);
    expect(readMetrics(join(out, "metrics.jsonl"))).toHaveLength(3);
  });

  it("resume continues bit for bit: metrics, actor and critic weights", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const config = tinyConfig(model, data, ppo({ trainer: { totalSteps: 4, testFreq: 0, saveFreq: 2 } }));
    const full = join(await tempDir(), "full"), split = join(await tempDir(), "split");
    await train({ config, outDir: full, reward: parityReward });
    // an early stop saves the last finished step (3) although saveFreq is 2: resume continues at 4
    const first = await train({ config, outDir: split, reward: parityReward, maxStepsThisRun: 3 });
    expect(first.stopReason).toBe("max-steps");
    expect(first.checkpoint).toMatch(/step-000003$/);
    const second = await train({ config, outDir: split, reward: parityReward, resume: true });
    expect(second.metrics.map((m) => m.step)).toEqual([4]);
    const a = readMetrics(join(full, "metrics.jsonl")), b = readMetrics(join(split, "metrics.jsonl"));
    for (const i of [0, 1, 2, 3]) expect(pick(b[i]!)).toEqual(pick(a[i]!));
    const ca = (await readCriticCheckpoint(findLatestCheckpoint(full)!.dir))!;
    const cb = (await readCriticCheckpoint(findLatestCheckpoint(split)!.dir))!;
    for (const [name, t] of ca.weights) expect(cb.weights.get(name)!.data, name).toEqual(t.data);
    const wa = (await loadModelDir(findLatestCheckpoint(full)!.modelDir)).weights!;
    const wb = (await loadModelDir(findLatestCheckpoint(split)!.modelDir)).weights!;
    for (const [name, t] of wa) expect(wb.get(name)!.data, name).toEqual(t.data);
  });

  it("critic warm-up trains only the critic; a GRPO checkpoint cannot be resumed as PPO", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "warm")];
    await train({ config: tinyConfig(model, data, ppo({ critic: { lr: 1e-2, warmupSteps: 1 }, trainer: { totalSteps: 2, testFreq: 0, saveFreq: 1 } })), outDir: out, reward: parityReward });
    const [c1, c2] = listCheckpoints(out);
    const base = (await loadModelDir(model)).weights!;
    const w1 = (await loadModelDir(c1!.modelDir)).weights!, w2 = (await loadModelDir(c2!.modelDir)).weights!;
    for (const [name, t] of base) expect(w1.get(name)!.data, name).toEqual(t.data);
    expect([...base].some(([name, t]) => w2.get(name)!.data.some((v, i) => v !== t.data[i]))).toBe(true);
    expect((await readCriticCheckpoint(c1!.dir))!.optimizer.step).toBe(1);

    const grpo = join(await tempDir(), "grpo");
    const g = tinyConfig(model, data, { trainer: { totalSteps: 1, testFreq: 0 }, eval: { beforeTrain: false } });
    await train({ config: g, outDir: grpo, reward: parityReward });
    const asPpo = tinyConfig(model, data, ppo({ trainer: { totalSteps: 2, testFreq: 0 } }));
    await expect(train({ config: asPpo, outDir: grpo, reward: parityReward, resume: true })).rejects.toThrow(/no critic/);
  });

  it("with actor.packSequences the same run gives the same rollouts at step 1 and trains", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const cfg = (pack: boolean) => tinyConfig(model, data, ppo({ actor: { ppoMiniBatchSize: 2, packSequences: pack }, trainer: { totalSteps: 2, testFreq: 0, saveFreq: 0 } }));
    const a = await train({ config: cfg(false), outDir: join(await tempDir(), "a"), reward: parityReward });
    const b = await train({ config: cfg(true), outDir: join(await tempDir(), "b"), reward: parityReward });
    // step 1 samples from the same weights; its losses differ from unpacked only in fp32 rounding
    const [x, y] = [a.metrics[0] as StepMetrics & Record<string, number>, b.metrics[0] as StepMetrics & Record<string, number>];
    expect(y.reward_mean).toBe(x.reward_mean);
    expect(y.response_length_mean).toBe(x.response_length_mean);
    expect(y.entropy).toBe(x.entropy);
    expect(y.values_mean).toBe(x.values_mean);
    expect(y.vf_loss).toBeCloseTo(x.vf_loss!, 6);
    expect(y.pg_loss).toBeCloseTo(x.pg_loss, 6);
    expect(b.metrics).toHaveLength(2);
  });
});
