import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { PRESETS, checksEveryUpdate, configToYaml, effectiveLoss, parseSet, readRunConfig, recomputesOldLogp, registerPreset, resolveConfig } from "../src/index.js";
import { REQUIRED_PATHS as paths, configErrorOf as errorOf, tempDir } from "./helpers.js";

describe("config", () => {
  it("defaults are the paper's 1-shot GRPO recipe", () => {
    const c = resolveConfig({ sets: paths });
    expect(c.data).toMatchObject({ trainBatchSize: 128, maxPromptLength: 1024, maxResponseLength: 3072 });
    expect(c.rollout).toMatchObject({ n: 8, temperature: 0.6, topP: 1 });
    expect(c.algorithm).toMatchObject({ advEstimator: "grpo", normStd: true, eps: 1e-6, gamma: 1, lambda: 1 });
    expect(c.actor).toMatchObject({
      lr: 1e-6, lrWarmupSteps: 0, betas: [0.9, 0.999], weightDecay: 0.01, gradClip: 1, ppoMiniBatchSize: 128, ppoEpochs: 1,
      clipLow: 0.2, clipHigh: 0.2, klType: "low_var_kl", klCoef: 0.001, entropyCoeff: 0.001, lossAgg: "token-mean", recomputeOldLogp: "auto", maxTokensPerMicroBatch: 0,
    });
    expect(c.critic).toMatchObject({ lr: 1e-5, cliprangeValue: 0.5 });
    expect(c.trainer).toMatchObject({ totalSteps: 2000, saveFreq: 20, testFreq: 20 });
    expect(c.eval.benchmarks).toEqual(["math500"]);
    expect(effectiveLoss(c)).toEqual({ pgCoef: 1, klCoef: 0.001, entropyCoeff: 0.001, weightDecay: 0.01 });
  });

  it("model and data paths are required; a preset can supply them", () => {
    const e = errorOf(() => resolveConfig());
    expect(e.message).toMatch(/"model.path" is required/);
    expect(e.message).toMatch(/"data.train" is required/);
    registerPreset("test-tiny", { description: "test", config: { model: { path: "/tiny" }, data: { train: "/tiny.jsonl", trainBatchSize: 4 }, actor: { ppoMiniBatchSize: 4 } } });
    const c = resolveConfig({ sets: ["preset=test-tiny", "actor.lr=2e-6"] });
    expect(c.model.path).toBe("/tiny");
    expect(c.actor.lr).toBe(2e-6);
    delete PRESETS["test-tiny"];
  });

  it("errors name the key and the allowed values", () => {
    expect(errorOf(() => resolveConfig({ sets: [...paths, "actor.lossAgg=mean"] })).message).toBe(
      'config key "actor.lossAgg": got "mean"; allowed values: "token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"',
    );
    const unknown = errorOf(() => resolveConfig({ sets: [...paths, "rollout.temp=1"] }));
    expect(unknown.key).toBe("rollout.temp");
    expect(unknown.message).toMatch(/unknown config key "rollout.temp"; allowed keys in "rollout": n, temperature, topP, topK, maxBatch/);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "rollout.temperature=0"] })).message).toMatch(/"rollout.temperature" must be > 0/);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "rollout.n=eight"] })).message).toMatch(/"rollout.n": expected number, got "eight"/);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "actor.dualClip=0.5"] })).message).toMatch(/must be 0 \(off\) or > 1/);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "actor.ppoMiniBatchSize=48"] })).key).toBe("actor.ppoMiniBatchSize");
    expect(errorOf(() => resolveConfig({ sets: [...paths, "preset=nope"] })).message).toMatch(/allowed values: "1shot-grpo"/);
    expect(() => parseSet("novalue")).toThrow(/expected key=value/);
  });

  it("reads YAML and JSON files; --set wins over the file; values parse as YAML scalars", async () => {
    const dir = await tempDir();
    const yaml = join(dir, "c.yaml");
    writeFileSync(yaml, "model:\n  path: /m\ndata:\n  train: /d.jsonl\nactor:\n  lr: 3e-6\n  betas: [0.9, 0.99]\nloss:\n  kl: false\n");
    const c = resolveConfig({ file: yaml, sets: ["actor.lr=5e-6", "data.shuffle=false"] });
    expect(c.actor.lr).toBe(5e-6);
    expect(c.actor.betas).toEqual([0.9, 0.99]);
    expect(c.data.shuffle).toBe(false);
    expect(effectiveLoss(c).klCoef).toBe(0);
    const json = join(dir, "c.json");
    writeFileSync(json, JSON.stringify({ model: { path: "/m" }, data: { train: "/d" }, preset: "entropy-only" }));
    const e = resolveConfig({ file: json });
    expect(effectiveLoss(e)).toMatchObject({ pgCoef: 0, klCoef: 0, entropyCoeff: 0.001 });
    writeFileSync(json, "{ nope");
    expect(errorOf(() => resolveConfig({ file: json })).message).toMatch(/not valid JSON/);
    // the printed config parses back to itself
    expect(resolveConfig({ file: (await import("yaml")).parse(configToYaml(c)) })).toEqual(c);
  });

  it("presets for the paper's variants", () => {
    expect(resolveConfig({ sets: [...paths, "preset=format-reward"] }).reward.formatReward).toBe(1);
    expect(resolveConfig({ sets: [...paths, "preset=wrong-labels"] }).data.wrongLabels).toBe(true);
    expect(resolveConfig({ sets: [...paths, "preset=dr-grpo"] }).algorithm.normStd).toBe(false);
    expect(resolveConfig({ sets: [...paths, "preset=ppo"] }).algorithm.advEstimator).toBe("gae");
    expect(effectiveLoss(resolveConfig({ sets: [...paths, "loss.weightDecay=false"] })).weightDecay).toBe(0);
  });

  it("--set and config files cannot reach Object.prototype", async () => {
    for (const key of ["__proto__.x", "actor.__proto__.polluted", "constructor.prototype.x"]) {
      expect(errorOf(() => resolveConfig({ sets: [...paths, `${key}=1`] })).message).toMatch(/is not a config key/);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const json = join(await tempDir(), "p.json");
    writeFileSync(json, '{"model": {"path": "/m"}, "data": {"train": "/d"}, "__proto__": {"polluted": 1}}');
    expect(errorOf(() => resolveConfig({ file: json })).message).toMatch(/config key "__proto__" is not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reward.timeoutMs: 1 <= t < 2^31 ms, the error names the key", () => {
    expect(resolveConfig({ sets: [...paths, "reward.timeoutMs=1"] }).reward.timeoutMs).toBe(1);
    expect(resolveConfig({ sets: [...paths, "reward.timeoutMs=2147483647"] }).reward.timeoutMs).toBe(2 ** 31 - 1);
    for (const bad of ["0", "-5", "2147483648", "1e12", "1.5"]) {
      const e = errorOf(() => resolveConfig({ sets: [...paths, `reward.timeoutMs=${bad}`] }));
      expect(e.key).toBe("reward.timeoutMs");
      expect(e.message).toMatch(/"reward.timeoutMs"/);
    }
  });

  it("model.activationBudgetMB: unset by default (the backend's budget), else a number >= 0", () => {
    expect(resolveConfig({ sets: paths }).model.activationBudgetMB).toBeUndefined();
    expect(resolveConfig({ sets: [...paths, "model.activationBudgetMB=0"] }).model.activationBudgetMB).toBe(0);
    expect(resolveConfig({ sets: [...paths, "model.activationBudgetMB=2048"] }).model.activationBudgetMB).toBe(2048);
    for (const bad of ["-1", "lots"]) {
      const e = errorOf(() => resolveConfig({ sets: [...paths, `model.activationBudgetMB=${bad}`] }));
      expect(e.key).toBe("model.activationBudgetMB");
    }
  });

  it("the guard section's defaults", () => {
    expect(resolveConfig({ sets: paths }).guard).toEqual({ checkEveryUpdate: "auto", maxWeightAbs: 1e6, maxSkippedUpdates: 3, minEntropy: 0, maxEntropyFrac: 0.995 });
    // "auto": every update on the CPU backends, only at checkpoints on cuda (a device-to-host copy)
    expect(checksEveryUpdate(resolveConfig({ sets: paths }))).toBe(true);
    expect(checksEveryUpdate(resolveConfig({ sets: [...paths, "model.backend=cuda"] }))).toBe(false);
    expect(checksEveryUpdate(resolveConfig({ sets: [...paths, "model.backend=cuda", "guard.checkEveryUpdate=true"] }))).toBe(true);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "guard.checkEveryUpdate=sometimes"] })).key).toBe("guard.checkEveryUpdate");
  });

  it("actor.recomputeOldLogp \"auto\" follows the backend", () => {
    // the sampler's log-probs are the old log-probs bit for bit on the CPU backends only
    expect(recomputesOldLogp(resolveConfig({ sets: paths }))).toBe(false);
    expect(recomputesOldLogp(resolveConfig({ sets: [...paths, "model.backend=ops-cpu"] }))).toBe(false);
    expect(recomputesOldLogp(resolveConfig({ sets: [...paths, "model.backend=cuda"] }))).toBe(true);
    expect(recomputesOldLogp(resolveConfig({ sets: [...paths, "model.backend=cuda", "actor.recomputeOldLogp=false"] }))).toBe(false);
    expect(recomputesOldLogp(resolveConfig({ sets: [...paths, "actor.recomputeOldLogp=true"] }))).toBe(true);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "actor.recomputeOldLogp=maybe"] })).key).toBe("actor.recomputeOldLogp");
  });

  it("actor.maxTokensPerMicroBatch: verl's ppo_max_token_len_per_gpu, a non-negative integer", () => {
    expect(resolveConfig({ sets: [...paths, "actor_rollout_ref.actor.ppo_max_token_len_per_gpu=16384"] }).actor.maxTokensPerMicroBatch).toBe(16384);
    expect(errorOf(() => resolveConfig({ sets: [...paths, "actor.maxTokensPerMicroBatch=-1"] })).key).toBe("actor.maxTokensPerMicroBatch");
  });

  it("a run's damaged config.json is an error naming the file and the fix", async () => {
    const dir = await tempDir();
    expect(readRunConfig(dir)).toBeNull();
    writeFileSync(join(dir, "config.json"), '{"actor": {"lr": 1e-6');
    const e = errorOf(() => readRunConfig(dir));
    expect(e.message).toMatch(new RegExp(`${join(dir, "config.json")}: the run's saved config is not valid JSON .*restore it, or move it away and give the run's settings with --config`));
  });
});
