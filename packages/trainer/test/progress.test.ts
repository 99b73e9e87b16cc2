import { describe, expect, it } from "vitest";

import type { StepMetrics } from "@rlvr/data";

import { Progress, phaseSummary, stepSummary, type StepProgress } from "../src/index.js";

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

describe("Progress inside a step", () => {
  const sink = (tty: boolean) => {
    const writes: string[] = [];
    return { writes, out: { isTTY: tty, columns: 200, write: (t: string) => (writes.push(t), true) } as unknown as NodeJS.WritableStream };
  };
  const rollout = (done: number, tokens: number, seconds: number): StepProgress => ({ step: 2, phase: "rollout", done, total: 4, tokens, seconds });
  const update = (done: number, seconds: number): StepProgress => ({ step: 2, phase: "update", done, total: 3, seconds });

  it("TTY: redraws on a new phase, at the phase's end, and otherwise at most once a second", () => {
    let now = 0;
    const { writes, out } = sink(true);
    const p = new Progress(out, 10, 1, { clock: () => now });
    p.inStep(rollout(0, 0, 0)); // new phase: drawn
    now = 300;
    p.inStep(rollout(1, 40, 0.3)); // within the second: skipped
    now = 1000;
    p.inStep(rollout(2, 80, 1)); // a second later: drawn
    now = 1100;
    p.inStep(rollout(4, 120, 1.1)); // the end: drawn
    p.inStep(update(1, 0.1)); // new phase: drawn
    now = 1200;
    p.inStep(update(2, 0.2)); // skipped
    expect(writes).toHaveLength(4);
    expect(writes[0]).toMatch(/rollout 0\/4 sequences, 0 tokens$/); // no rate before the first token
    expect(writes[1]).toMatch(/^\r\x1b\[K\[#{2}\.{22}\] 1\/10 ETA \? step 2: rollout 2\/4 sequences, 80 tokens, 80 tok\/s$/);
    expect(writes[3]).toMatch(/step 2: update 1\/3 micro-batches$/);
    // a message line redraws the last progress line under it
    p.log("hello");
    expect(writes.at(-1)).toMatch(/^\r\x1b\[Khello\n.*update 1\/3 micro-batches$/);
  });

  it("off a TTY: one summary line per phase that ended and took quietSeconds or more", () => {
    const { writes, out } = sink(false);
    const p = new Progress(out, 10, 1, { quietSeconds: 5 });
    for (const e of [rollout(0, 0, 0), rollout(2, 50, 3), rollout(4, 100, 6), update(1, 1), update(3, 2)]) p.inStep(e);
    expect(writes).toEqual(["step 2: rollout 4/4 sequences, 100 tokens, 16.7 tok/s in 6s\n"]);
  });
});
