import type { StepMetrics } from "@rlvr/data";

/** A plausible 1-shot run: accuracy saturates, test accuracy keeps rising, entropy falls. */
export function syntheticMetrics(steps: number): StepMetrics[] {
  return Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const acc = Math.min(1, 0.1 + step / 60);
    const m: StepMetrics = {
      step,
      epoch: step,
      time: step * 31.25,
      reward_mean: acc,
      train_acc: acc,
      entropy: 0.9 * Math.exp(-step / 80) + 0.1,
      response_length_mean: 500 + 3 * step,
      kl: 0.0005 * step,
      clip_frac: 0.002,
      pg_loss: -0.01,
      grad_norm: 0.25,
      lr: 1e-6,
      tokens_per_s: 4200,
      phase_s: { rollout: 20, reward: 0.5, old_logp: 3, ref_logp: 3, update: 4.75 },
      reflection: { rethink: step % 7, recheck: Math.floor(step / 10), recalculate: 0 },
    };
    if (step % 20 === 0) m.test = { math500: 0.36 + step / 500, aime24: 0.05 + step / 4000 };
    return m;
  });
}
