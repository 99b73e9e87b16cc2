// The divergence guard: a blown-up update is never saved as progress (issue #17, item 3).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { readMetrics } from "@rlvr/data";

import { DivergenceError, DivergenceGuard, checkState, findLatestCheckpoint, resolveConfig, train } from "../src/index.js";
import { parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

const guardConfig = (sets: string[] = []) => resolveConfig({ sets: ["model.path=/m", "data.train=/d", ...sets] }).guard;

async function setup(extra: Record<string, unknown>) {
  const [model, data] = [await tinyModelDir(), await tinyData()];
  return { config: tinyConfig(model, data, { eval: { beforeTrain: false }, ...extra }), run: join(await tempDir(), "run") };
}

describe("divergence is caught before it is saved", () => {
  for (const [lr, what] of [["3e38", /weight .* is (Infinity|-Infinity|NaN)/], ["1e30", /exceeds guard.maxWeightAbs \(1000000\)/]] as const) {
    it(`actor.lr=${lr}: stops at step 2 with a message naming the cause; the step-1 checkpoint stays the newest`, async () => {
      const { config, run } = await setup({ trainer: { totalSteps: 4, saveFreq: 1, testFreq: 0 } });
      // step 1 at a sane lr, then the blow-up: resume with the bad lr
      await train({ config, outDir: run, reward: parityReward, maxStepsThisRun: 1 });
      const bad = { ...config, actor: { ...config.actor, lr: Number(lr) } };
      const err = await train({ config: bad, outDir: run, reward: parityReward, resume: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DivergenceError);
      expect((err as DivergenceError).step).toBe(2);
      expect((err as Error).message).toMatch(/training diverged at step 2: after optimizer update 1 of the step/);
      expect((err as Error).message).toMatch(what);
      expect((err as Error).message).toMatch(/last good checkpoint is .*step-000001 \(step 1\).*Lower actor.lr/);
      expect(readdirSync(join(run, "checkpoints")).filter((n) => n.startsWith("step-"))).toEqual(["step-000001"]);
      // and the run resumes from it
      const r = await train({ config, outDir: run, reward: parityReward, resume: true });
      expect(r.metrics.map((m) => m.step)).toEqual([2, 3, 4]);
    });
  }

  it("with the per-update check off, the checkpoint write still refuses the diverged weights", async () => {
    const { config, run } = await setup({ actor: { lr: 3e38 }, guard: { checkEveryUpdate: false, maxSkippedUpdates: 100, maxEntropyFrac: 1 }, trainer: { totalSteps: 3, saveFreq: 1, testFreq: 0 } });
    const err = await train({ config, outDir: run, reward: parityReward }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toMatch(/at step 1: weight .* is (Infinity|-Infinity|NaN).*no checkpoint was written yet/);
    expect(existsSync(join(run, "checkpoints")) ? findLatestCheckpoint(run) : null).toBeNull();
  });

  it("with the weight bound off, non-finite model outputs still stop the run as a divergence", async () => {
    const { config, run } = await setup({
      actor: { lr: 1e30 }, guard: { checkEveryUpdate: false, maxWeightAbs: 0, maxEntropyFrac: 1 }, trainer: { totalSteps: 3, saveFreq: 0, testFreq: 0 },
    });
    const err = await train({ config, outDir: run, reward: parityReward }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toMatch(/training diverged at step \d: the model's outputs are not finite: .*NaN/);
  });
});

describe("a collapse measured on a saved step's weights", () => {
  it("says the newest checkpoint holds them (weight bound off, lr 1e30)", async () => {
    // one optimizer step a training step, so the bad weights come from a finished (and saved) step
    const { config, run } = await setup({ actor: { ppoMiniBatchSize: 2 }, guard: { maxWeightAbs: 0, checkEveryUpdate: false }, trainer: { totalSteps: 3, saveFreq: 1, testFreq: 0 } });
    await train({ config, outDir: run, reward: parityReward, maxStepsThisRun: 1 });
    const bad = { ...config, actor: { ...config.actor, lr: 1e30 } };
    const err = await train({ config: bad, outDir: run, reward: parityReward, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    // step 2's update made the weights; step 3's rollout and forward measured them
    expect((err as Error).message).toMatch(/diverged at step 3: .*the newest checkpoint .*step-000002 \(step 2\) holds the weights this was measured on: move it away/);
  });
});

describe("DivergenceGuard and checkState", () => {
  it("counts consecutive skipped updates; entropy floor and uniform collapse", () => {
    const g = new DivergenceGuard(guardConfig(["guard.maxSkippedUpdates=2", "guard.minEntropy=0.01"]), 100);
    const ok = { updates: 1, skipped: 0, entropy: 1, entropyFinite: true };
    expect(g.afterStep({ ...ok, skipped: 1 })).toBeNull();
    expect(g.afterStep(ok)).toBeNull(); // a good update resets the count
    expect(g.afterStep({ ...ok, skipped: 1 })).toBeNull();
    expect(g.afterStep({ ...ok, skipped: 1 })).toBeNull();
    expect(g.afterStep({ ...ok, skipped: 1 })).toMatch(/3 optimizer updates in a row were skipped/);
    expect(g.afterStep({ ...ok, entropy: 0.001 })).toMatch(/fell below guard.minEntropy \(0.01\)/);
    expect(g.afterStep({ ...ok, entropy: Math.log(100) })).toMatch(/collapsed to uniform outputs/);
    expect(g.afterStep({ ...ok, entropy: NaN, entropyFinite: false })).toMatch(/not finite/);
    const off = new DivergenceGuard(guardConfig(["guard.maxEntropyFrac=1"]), 100);
    expect(off.afterStep({ ...ok, entropy: Math.log(100) })).toBeNull();
  });

  it("checkState names the tensor and index; moments must be finite", () => {
    const w = new Float32Array([0, 1, 2]);
    expect(checkState([["a", w]], null, 10)).toBeNull();
    expect(checkState([["a", Float32Array.of(0, NaN)]], null, 10)).toBe("weight a[1] is NaN");
    expect(checkState([["a", Float32Array.of(11)]], null, 10)).toMatch(/weight a\[0\] = 1.100e\+1 exceeds guard.maxWeightAbs \(10\)/);
    expect(checkState([["a", Float32Array.of(11)]], null, 0)).toBeNull();
    const moments = new Map([["a", { m: Float32Array.of(0), v: Float32Array.of(Infinity) }]]);
    expect(checkState([["a", w]], { step: 1, moments }, 10)).toBe("AdamW exp_avg_sq of a[0] is Infinity");
  });
});
