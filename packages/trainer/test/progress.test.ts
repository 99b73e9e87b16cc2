import { describe, expect, it } from "vitest";

import type { StepMetrics } from "@rlvr/data";

import { phaseSummary, stepSummary } from "../src/index.js";

const step = (phase_s: StepMetrics["phase_s"]) => ({ phase_s }) as StepMetrics;

describe("phaseSummary: where a run's time went", () => {
  it("means over the steps after the first, shares of the total, and the rest beside rollout and update", () => {
    const warm = step({ rollout: 9, reward: 9, old_logp: 0, ref_logp: 9, update: 9 });
    const a = step({ rollout: 0.3, reward: 0.01, old_logp: 0, ref_logp: 0.09, update: 0.6 });
    const b = step({ rollout: 0.1, reward: 0.03, old_logp: 0, ref_logp: 0.11, update: 0.8 });
    const s = phaseSummary([warm, a, b])!;
    expect(s.stepSeconds).toBeCloseTo(1.02, 12);
    expect(Object.keys(s.share)).toEqual(["rollout", "reward", "ref_logp", "update"]); // phases that took time, in step order
    expect(s.share.update).toBeCloseTo(0.7 / 1.02, 12);
    expect(s.rest).toBeCloseTo(0.12 / 1.02, 12);
    expect(s.text).toBe("time per step 1.02 s: rollout 20%, reward 2.0%, ref_logp 9.8%, update 69% (all but rollout and update: 12%)");
    // one step: it is used; PPO's phases appear when present
    const ppo = phaseSummary([step({ rollout: 1, reward: 0, old_logp: 0, ref_logp: 0, values: 1, update: 1, critic: 1 })])!;
    expect(ppo.share).toEqual({ rollout: 0.25, values: 0.25, update: 0.25, critic: 0.25 });
    expect(phaseSummary([])).toBeNull();
  });
});

describe("stepSummary", () => {
  const m = (extra: Record<string, unknown>) =>
    ({ reward_mean: 0.5, train_acc: 0.5, entropy: 1, response_length_mean: 10, kl: 0, grad_norm: 0, ...extra }) as unknown as StepMetrics;
  it("a skipped update shows as such, not as a gradient norm of 0", () => {
    expect(stepSummary(m({ grad_norm: 0.25, optimizer_steps: 1, skipped_updates: 0 }))).toMatch(/gnorm 0.25$/);
    expect(stepSummary(m({ optimizer_steps: 1, skipped_updates: 1 }))).toMatch(/gnorm non-finite: update skipped$/);
    expect(stepSummary(m({ grad_norm: 0.5, optimizer_steps: 4, skipped_updates: 1 }))).toMatch(/gnorm 0.5 \(1\/4 updates skipped\)$/);
  });
});
