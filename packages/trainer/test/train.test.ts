import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { readMetrics, parseAccuracyHistory, type StepMetrics } from "@rlvr/data";
import { loadModelDir } from "@rlvr/model";

import { findLatestCheckpoint, train, type TrainerEvent } from "../src/index.js";
import { PROBLEMS, parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

/** Fields that depend only on the weights, rollouts and rewards (not on wall-clock time). */
const DETERMINISTIC = ["step", "epoch", "reward_mean", "train_acc", "entropy", "response_length_mean", "kl", "clip_frac", "pg_loss", "grad_norm", "lr", "kl_loss", "entropy_loss", "ppo_kl", "test"] as const;
const pick = (m: StepMetrics) => Object.fromEntries(DETERMINISTIC.map((k) => [k, m[k]]));

describe("train end to end (tiny model, CPU)", () => {
  it("trains 3 steps with the verifier reward: metrics, eval, checkpoints, accuracy history", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "run")];
    const events: string[] = [];
    const r = await train({ config: tinyConfig(model, data), outDir: out, onEvent: (e) => events.push(e.type) });
    expect(r.lastStep).toBe(3);
    const metrics = readMetrics(join(out, "metrics.jsonl"));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(metrics.map((m) => m.epoch)).toEqual([0, 0, 1]); // 4 rows, batch 2: 2 steps an epoch (0-based)
    for (const m of metrics) {
      expect(m.lr).toBe(1e-3);
      expect(m.response_length_mean).toBeGreaterThan(0);
      expect(m.entropy).toBeGreaterThan(0);
      expect(m.kl).toBeGreaterThanOrEqual(0);
      expect(m.grad_norm).toBeGreaterThan(0); // entropy and KL terms always give a gradient
      expect(Object.keys(m.phase_s)).toEqual(["rollout", "reward", "old_logp", "ref_logp", "update"]);
      expect(m.optimizer_steps).toBe(2); // ppoMiniBatchSize 1 of trainBatchSize 2
      // 2 prompts x 4 samples: distinct sequences are at least the 2 prompts, at most the 8 responses
      expect(Number.isInteger(m.distinct_responses)).toBe(true);
      expect(m.distinct_responses).toBeGreaterThanOrEqual(2);
      expect(m.distinct_responses).toBeLessThanOrEqual(8);
    }
    expect(metrics[1]!.test).toBeDefined(); // testFreq 2
    expect(metrics[2]!.test).toBeDefined(); // last step
    const evals = readFileSync(join(out, "eval.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number });
    expect(evals.map((e) => e.step)).toEqual([0, 2, 3]);
    expect(readdirSync(join(out, "checkpoints")).filter((n) => n.startsWith("step-")).sort()).toEqual(["step-000002", "step-000003"]);
    const ck = findLatestCheckpoint(out)!;
    expect(ck.state.step).toBe(3);
    expect(ck.state.adamwSteps).toBe(6);
    const saved = await loadModelDir(ck.modelDir);
    expect(saved.config.torchDtype).toBe("float32");
    const hist = parseAccuracyHistory(readFileSync(join(out, "acc_history.json"), "utf8"));
    expect([...hist.keys()].sort()).toEqual(["10", "11", "12", "13"]); // one epoch complete at step 2
    expect(existsSync(join(out, "config.json"))).toBe(true);
    expect(events).toContain("checkpoint");
  });

  it("reports progress inside each step: the rollout per decode step, the update per micro-batch; the evaluation", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const config = tinyConfig(model, data, { trainer: { totalSteps: 2, testFreq: 0 } });
    const events: TrainerEvent[] = [];
    const r = await train({ config, outDir: join(await tempDir(), "run"), reward: parityReward, onEvent: (e) => events.push(e) });
    for (const step of [1, 2]) {
      const mine = events.filter((e) => "step" in e && e.step === step && (e.type === "phase" || e.type === "progress") && !(e.type === "phase" && e.phase === "checkpoint"));
      const label = (e: TrainerEvent) => (e.type === "phase" ? `phase:${e.phase}` : e.type === "progress" ? `progress:${e.phase}` : e.type);
      // in order: the rollout's progress inside the rollout phase, the update's inside the update phase
      const order = mine.map(label).filter((l, i, a) => l !== a[i - 1]);
      expect(order).toEqual(["phase:rollout", "progress:rollout", "phase:old_logp", "phase:ref_logp", "phase:reward", "phase:update", "progress:update"]);
      const rollout = mine.filter((e) => e.type === "progress" && e.phase === "rollout") as Extract<TrainerEvent, { type: "progress" }>[];
      // the prefill, each decode step (at most maxResponseLength) and the last one
      expect(rollout.length).toBeGreaterThanOrEqual(2);
      expect(rollout.length).toBeLessThanOrEqual(config.data.maxResponseLength + 2);
      expect(rollout[0]).toMatchObject({ done: 0, total: 8, tokens: 0 });
      for (let i = 1; i < rollout.length; i++) expect(rollout[i]!.done).toBeGreaterThanOrEqual(rollout[i - 1]!.done);
      expect(rollout.at(-1)).toMatchObject({ done: 8, total: 8, tokens: r.metrics[step - 1]!.generated_tokens });
      // 8 responses in mini-batches of 4 (ppoMiniBatchSize 1 x n 4), micro-batches of 3: 2 + 2 calls
      const update = mine.filter((e) => e.type === "progress" && e.phase === "update");
      expect(update.map((e) => e.type === "progress" && [e.done, e.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    }
    // the evaluation before training (step 0): its decode steps, between its phase and its result
    const start = events.findIndex((e) => e.type === "phase" && e.phase === "eval"), end = events.findIndex((e) => e.type === "eval");
    const evalProgress = events.filter((e) => e.type === "progress" && e.phase === "eval") as Extract<TrainerEvent, { type: "progress" }>[];
    expect(evalProgress.length).toBeGreaterThanOrEqual(2);
    expect(evalProgress.every((e) => e.step === 0 && events.indexOf(e) > start && events.indexOf(e) < end)).toBe(true);
    expect(evalProgress.at(-1)!.done).toBe(evalProgress.at(-1)!.total);
    expect(evalProgress.at(-1)!.total).toBe(2); // eval.limit 2 problems, 1 sample each
  });

  it("resume continues the step numbering and reproduces the next step's metrics", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    // one optimizer step per training step (the paper's mini-batch == batch): every metric of a
    // step is computed before its update, so the resumed step matches bit for bit
    const config = tinyConfig(model, data, { actor: { ppoMiniBatchSize: 2 }, trainer: { totalSteps: 4, testFreq: 0 }, eval: { beforeTrain: false } });
    const full = join(await tempDir(), "full"), split = join(await tempDir(), "split");
    await train({ config, outDir: full, reward: parityReward });
    const first = await train({ config, outDir: split, reward: parityReward, maxStepsThisRun: 3 });
    expect(first.lastStep).toBe(3);
    // step 3's checkpoint is not due (saveFreq 2), but an early stop always saves the last finished step
    expect(first.stopReason).toBe("max-steps");
    expect(first.checkpoint).toMatch(/step-000003$/);
    const second = await train({ config, outDir: split, reward: parityReward, resume: true });
    expect(second.metrics.map((m) => m.step)).toEqual([4]);
    expect(second.stopReason).toBe("completed");
    const a = readMetrics(join(full, "metrics.jsonl")), b = readMetrics(join(split, "metrics.jsonl"));
    expect(b.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    // every step bit for bit: checkpoint 2 holds the exact f32 weights and the AdamW moments
    for (const i of [0, 1, 2, 3]) expect(pick(b[i]!)).toEqual(pick(a[i]!));
    const wa = (await loadModelDir(findLatestCheckpoint(full)!.modelDir)).weights!;
    const wb = (await loadModelDir(findLatestCheckpoint(split)!.modelDir)).weights!;
    for (const [name, t] of wa) expect(wb.get(name)!.data, name).toEqual(t.data);
  });

  it("an error mid-run leaves the last good checkpoint and the metrics intact", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "run")];
    const config = tinyConfig(model, data, { trainer: { totalSteps: 4, testFreq: 0 }, eval: { beforeTrain: false } });
    let calls = 0;
    const failing = async (items: readonly { response: string }[]) => {
      if (++calls === 3) throw new Error("reward service down");
      return parityReward(items);
    };
    await expect(train({ config, outDir: out, reward: failing })).rejects.toThrow(/reward service down/);
    expect(readMetrics(join(out, "metrics.jsonl")).map((m) => m.step)).toEqual([1, 2]);
    expect(findLatestCheckpoint(out)!.state.step).toBe(2);
    await expect(train({ config, outDir: out, reward: parityReward })).rejects.toThrow(/--resume/);
    const r = await train({ config, outDir: out, reward: parityReward, resume: true });
    expect(r.metrics.map((m) => m.step)).toEqual([3, 4]);
  });

  it("wrong labels: the rewards see a wrong gold for every example", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "run")];
    const config = tinyConfig(model, data, { preset: "wrong-labels", trainer: { totalSteps: 2, testFreq: 0 }, eval: { beforeTrain: false } });
    const seen = new Map<number, string>();
    const spy = async (items: readonly { response: string; gold: string; exampleIndex: number }[]) => {
      for (const i of items) seen.set(i.exampleIndex, i.gold);
      return parityReward(items);
    };
    await train({ config, outDir: out, reward: spy });
    const golds = new Map(PROBLEMS.map(([, a], i) => [10 + i, a]));
    expect(seen.size).toBe(4);
    for (const [index, gold] of seen) expect(gold).not.toBe(golds.get(index));
  });
});
