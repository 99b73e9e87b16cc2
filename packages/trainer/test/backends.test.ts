// The trainer on the OpsModel CPU backend (model.backend "ops-cpu": the device path's model code
// on host memory): it trains end to end, its shared-prompt reference scoring matches the CPU
// engine's, PPO's critic runs on it too, and so do packed batches.
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { train } from "../src/index.js";
import { parityReward, sharedPromptScores, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

describe("trainer on model.backend ops-cpu", () => {
  it("trains 2 steps with the reference (KL on): finite metrics, a checkpoint", async () => {
    const [model, data, out] = [await tinyModelDir(), await tinyData(), join(await tempDir(), "ops")];
    const config = tinyConfig(model, data, {
      model: { path: model, backend: "ops-cpu" }, trainer: { totalSteps: 2, testFreq: 0, saveFreq: 2 }, eval: { beforeTrain: false },
    });
    const r = await train({ config, outDir: out, reward: parityReward });
    expect(r.metrics.map((m) => m.step)).toEqual([1, 2]);
    for (const m of r.metrics) {
      expect(Number.isFinite(m.pg_loss) && Number.isFinite(m.kl) && Number.isFinite(m.entropy)).toBe(true);
      expect(m.phase_s.ref_logp).toBeGreaterThan(0);
    }
  });

  it("shared-prompt reference scoring on ops-cpu matches the CPU engine's (fp32 reassociation only)", async () => {
    const { cpu: a, other: b } = await sharedPromptScores({ backend: "ops-cpu" });
    // the OpsModel CPU check measured 1.9e-5 absolute on log-probs; bound 10x
    for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThanOrEqual(2e-4);
  });

  it("PPO trains on ops-cpu (critic on the OpsModel); packed batches train there like unpacked ones", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const base = { model: { path: model, backend: "ops-cpu" }, trainer: { totalSteps: 1, testFreq: 0 }, eval: { beforeTrain: false } };
    const ppo = tinyConfig(model, data, { ...base, algorithm: { advEstimator: "gae" }, critic: { lr: 1e-2 }, trainer: { totalSteps: 2, testFreq: 0 } });
    const r = await train({ config: ppo, outDir: join(await tempDir(), "p"), reward: parityReward });
    for (const m of r.metrics) expect((m as { vf_loss?: number }).vf_loss).toBeGreaterThanOrEqual(0);
    expect((r.metrics[1] as { values_mean?: number }).values_mean).not.toBe(0);
    // the same first step packed and unpacked: the same rollouts, and the update's statistics
    // (computed before its optimizer step) equal up to fp32 summation order
    const both = await Promise.all(
      [true, false].map(async (packSequences) => {
        const cfg = tinyConfig(model, data, { ...base, actor: { packSequences } });
        return (await train({ config: cfg, outDir: join(await tempDir(), `q${packSequences}`), reward: parityReward })).metrics[0]!;
      }),
    );
    const [packed, plain] = [both[0]!, both[1]!];
    expect(packed.response_length_mean).toBe(plain.response_length_mean);
    for (const k of ["pg_loss", "kl", "entropy", "grad_norm"] as const) expect(packed[k]).toBeCloseTo(plain[k], 5);
  });
});
