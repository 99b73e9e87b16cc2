// The trainer on model.backend "cuda" (OpsModel on a device), as backends.test.ts runs it on
// "ops-cpu": GRPO with the reference trains end to end (fp32 and bf16 GEMMs), its first step
// matches the CPU engine's, shared-prompt reference scoring matches, and PPO's critic trains.
// Skipped, with the reason printed, where no device is usable (CI). On a GPU machine without
// Node: bench/gpu/make_node_bundle.sh here, then bench/gpu/run_node_gpu_tests.sh there.
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { cudaAvailable, cudaUnavailableReason } from "@rlvr/native";

import { train } from "../src/index.js";
import { parityReward, sharedPromptScores, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

const available = cudaAvailable();
const reason = cudaUnavailableReason();
if (!available) console.log(`[train.gpu.test.ts] skipped: ${reason}`);

describe.skipIf(available)("trainer on model.backend cuda", () => {
  it.skip(`skipped: ${reason}`, () => {});
});

describe.skipIf(!available)("trainer on model.backend cuda", () => {
  const base = { trainer: { totalSteps: 2, testFreq: 0, saveFreq: 2 }, eval: { beforeTrain: false } };

  for (const bf16Gemm of [false, true]) {
    it(`trains 2 GRPO steps with the reference (KL on), ${bf16Gemm ? "bf16" : "fp32"} GEMMs: finite metrics`, async () => {
      const [model, data] = [await tinyModelDir(), await tinyData()];
      const config = tinyConfig(model, data, { ...base, model: { path: model, backend: "cuda", bf16Gemm } });
      const r = await train({ config, outDir: join(await tempDir(), `g${bf16Gemm}`), reward: parityReward });
      expect(r.metrics.map((m) => m.step)).toEqual([1, 2]);
      for (const m of r.metrics) {
        for (const k of ["pg_loss", "kl", "entropy", "grad_norm"] as const) expect(Number.isFinite(m[k])).toBe(true);
        expect(m.phase_s.ref_logp).toBeGreaterThan(0);
      }
    });
  }

  it("the first GRPO step on cuda (fp32) equals the CPU engine's up to fp32 summation order", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const firstSteps = await Promise.all(
      (["cuda", "cpu"] as const).map(async (backend) => {
        const cfg = tinyConfig(model, data, { ...base, trainer: { totalSteps: 1, testFreq: 0 }, model: { path: model, backend } });
        return (await train({ config: cfg, outDir: join(await tempDir(), backend), reward: parityReward })).metrics[0]!;
      }),
    );
    const [gpu, cpu] = [firstSteps[0]!, firstSteps[1]!];
    // Same seed, same sampler: a sampled token could only differ if a uniform fell within the
    // ~1e-6 logit difference of a CDF boundary, so the rollouts are the same ones.
    expect(gpu.response_length_mean).toBe(cpu.response_length_mean);
    expect(gpu.reward_mean).toBe(cpu.reward_mean);
    // The update's statistics (before its optimizer step): the engine comparisons on an H100
    // measured loss terms within 6e-7 and gradients within 1e-5 of max; 4 decimals is ~100x that.
    for (const k of ["pg_loss", "kl", "entropy", "grad_norm"] as const) expect(gpu[k]).toBeCloseTo(cpu[k], 4);
  });

  it("shared-prompt reference scoring on cuda matches the CPU engine's", async () => {
    const { cpu: a, other: b } = await sharedPromptScores({ backend: "cuda" });
    // engine bound CUDA_FP32_VS_CPU.logp (packages/engine/test/backendCompare.ts): 1.5e-3
    for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThanOrEqual(1.5e-3);
  });

  it("PPO trains on cuda (critic on the device)", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const ppo = tinyConfig(model, data, {
      ...base, model: { path: model, backend: "cuda" }, algorithm: { advEstimator: "gae" }, critic: { lr: 1e-2 },
    });
    const r = await train({ config: ppo, outDir: join(await tempDir(), "ppo"), reward: parityReward });
    for (const m of r.metrics) expect((m as { vf_loss?: number }).vf_loss).toBeGreaterThanOrEqual(0);
    expect((r.metrics[1] as { values_mean?: number }).values_mean).not.toBe(0);
  });
});
