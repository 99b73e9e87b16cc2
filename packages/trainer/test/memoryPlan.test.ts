import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { parseModelConfig } from "@rlvr/model";
import { repoRoot } from "@rlvr/testing/repoRoot";
import { readFileSync } from "node:fs";

import { ConfigError, checkPlan, describePlan, keepAllActivationBytes, planDeviceMemory, resolveConfig } from "../src/index.js";

// Qwen2.5-Math-1.5B's shapes (examples/qwen2.5-math-1.5b/config.json) and the paper's run file
const model = parseModelConfig(JSON.parse(readFileSync(join(repoRoot(), "examples/qwen2.5-math-1.5b/config.json"), "utf8")));
const paper = (sets: string[] = []) => resolveConfig({ file: join(repoRoot(), "examples/qwen2.5-math-1.5b-pi1.yaml"), sets });
const GiB = 2 ** 30;
// 151936 x 1536 tied embeddings + 28 x (norms, q/k/v with biases, o, gate/up/down) + the final norm
const PARAMS = 151936 * 1536 + 28 * (2 * 1536 + 1536 * 1536 + 2 * 256 * 1536 + 1536 + 2 * 256 + 1536 * 1536 + 3 * 8960 * 1536) + 1536;

describe("the device memory plan (model.backend cuda)", () => {
  it("the paper's run on an 80 GiB device: resident state, KV cache and workspace fit; the rest goes to activations", () => {
    expect(PARAMS).toBe(1_543_714_304);
    const c = paper(["actor.maxTokensPerMicroBatch=16384"]);
    const plan = planDeviceMemory(model, c, 79 * GiB);
    expect(plan.budget).toBeCloseTo(0.9 * 79 * GiB, 0);
    // actor: fp32 weights, gradients, two AdamW moments + the bf16 copy; reference: fp32 + bf16
    expect(plan.resident.map((r) => r.bytes)).toEqual([PARAMS * 18, PARAMS * 6]);
    // 64 slots x (1024 + 3072 + the windows' 1/8 margin) x 28 layers x K and V x 2 KV heads x 128 x fp32, + logits
    expect(plan.kvCache).toBe(64 * 4608 * 28 * 2 * 256 * 4 + 64 * 151936 * 4);
    expect(plan.activationBudget).toBeCloseTo(plan.budget - plan.residentBytes - plan.workspace, 0);
    expect(plan.activationBudget).toBeGreaterThan(0);
    expect(() => checkPlan(plan, c)).not.toThrow();
    // a 16384-token micro-batch keeping all 28 layers would need more than is left: recompute
    expect(keepAllActivationBytes(model, c)).toBeGreaterThan(plan.activationBudget);
    expect(describePlan(plan, model, c)).toMatch(/recomputed/);
    // the run file's 8192-token budget keeps every layer's activations
    const small = paper();
    expect(small.actor.maxTokensPerMicroBatch).toBe(8192);
    const p2 = planDeviceMemory(model, small, 79 * GiB);
    expect(keepAllActivationBytes(model, small)).toBeLessThan(p2.activationBudget);
    expect(describePlan(p2, model, small)).toMatch(/all kept/);
  });

  it("what does not fit stops before anything is allocated, naming the setting", () => {
    const key = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).key;
      }
      return "fits";
    };
    // 24 GiB free: the actor and the reference alone need ~34 GiB
    expect(key(() => checkPlan(planDeviceMemory(model, paper(), 24 * GiB), paper()))).toBe("model.path");
    // without the reference (KL off) the actor's ~28 GiB fits in 40 GiB
    const noKl = paper(["loss.kl=false"]);
    expect(planDeviceMemory(model, noKl, 40 * GiB).resident).toHaveLength(1);
    // 1024 sequences decoded together: a 240 GiB KV cache
    const wide = paper(["rollout.maxBatch=1024"]);
    expect(key(() => checkPlan(planDeviceMemory(model, wide, 79 * GiB), wide))).toBe("rollout.maxBatch");
    // no token budget: 64 full-length responses a micro-batch
    const unbounded = paper(["actor.maxTokensPerMicroBatch=0"]);
    expect(key(() => checkPlan(planDeviceMemory(model, unbounded, 79 * GiB), unbounded))).toBe("actor.maxTokensPerMicroBatch");
    expect(key(() => checkPlan(planDeviceMemory(model, paper(), 79 * GiB), paper()))).toBe("fits");
    expect(() => resolveConfig({ file: join(repoRoot(), "examples/qwen2.5-math-1.5b-pi1.yaml"), sets: ["model.deviceMemoryFraction=0"] })).toThrow(/deviceMemoryFraction/);
  });
});
