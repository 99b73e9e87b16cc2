// rlvr's metrics.jsonl keys under the names verl's dashboards use (verl: trainer/ppo/metric_utils
// and the actor/critic workers), so a verl user's TensorBoard or W&B panels read an rlvr run.
// Keys verl has no name for are kept under "rlvr/<key>".

/** One metrics.jsonl key and its verl-style name, with what it measures in rlvr. */
export interface MetricName {
  key: string;
  name: string;
  meaning: string;
}

/** The mapped scalar keys (one table: also printed in the trainer README). */
export const METRIC_NAMES: readonly MetricName[] = [
  { key: "reward_mean", name: "critic/score/mean", meaning: "mean sequence reward of the step's responses" },
  { key: "score_std", name: "critic/score/std", meaning: "standard deviation of the rewards (rlvr addition)" },
  { key: "train_acc", name: "rlvr/train_acc", meaning: "share of the step's responses graded correct" },
  { key: "entropy", name: "actor/entropy", meaning: "mean token entropy of the responses (nats)" },
  { key: "pg_loss", name: "actor/pg_loss", meaning: "policy-gradient loss" },
  { key: "clip_frac", name: "actor/pg_clipfrac", meaning: "share of response tokens where the PPO clip was active" },
  { key: "dual_clip_frac", name: "actor/pg_clipfrac_lower", meaning: "share of tokens clipped by the dual clip (negative advantages)" },
  { key: "ppo_kl", name: "actor/ppo_kl", meaning: "KL between the rollout policy and the updated one" },
  { key: "kl", name: "actor/kl_loss", meaning: "mean KL to the reference model (the configured estimator), before its coefficient" },
  { key: "grad_norm", name: "actor/grad_norm", meaning: "gradient norm before clipping" },
  { key: "lr", name: "actor/lr", meaning: "learning rate" },
  { key: "response_length_mean", name: "response_length/mean", meaning: "mean response length (tokens)" },
  { key: "response_length_max", name: "response_length/max", meaning: "longest response (tokens)" },
  { key: "truncated_frac", name: "response_length/clip_ratio", meaning: "share of responses cut at the length limit" },
  { key: "vf_loss", name: "critic/vf_loss", meaning: "PPO: the critic's value loss" },
  { key: "vf_clip_frac", name: "critic/vf_clipfrac", meaning: "PPO: share of values clipped" },
  { key: "critic_grad_norm", name: "critic/grad_norm", meaning: "PPO: the critic's gradient norm" },
  { key: "values_mean", name: "critic/values/mean", meaning: "PPO: mean value over response tokens" },
  { key: "returns_mean", name: "critic/returns/mean", meaning: "PPO: mean return over response tokens" },
  { key: "generated_tokens", name: "perf/total_num_tokens", meaning: "response tokens generated in the step" },
  { key: "eval_s", name: "timing_s/testing", meaning: "seconds of the step's test evaluation" },
];

/** Phases of phase_s and their verl timer names. */
export const PHASE_NAMES: Readonly<Record<string, string>> = {
  rollout: "timing_s/gen",
  reward: "timing_s/reward",
  old_logp: "timing_s/old_log_prob",
  ref_logp: "timing_s/ref",
  values: "timing_s/values",
  update: "timing_s/update_actor",
  critic: "timing_s/update_critic",
};

const BY_KEY = new Map(METRIC_NAMES.map((m) => [m.key, m.name]));
/** Keys that are bookkeeping, not curves. */
const SKIP = new Set(["step", "time"]);

export interface NamedValue {
  tag: string;
  value: number;
}

/**
 * A metrics record as verl-named scalars: mapped keys by METRIC_NAMES, phases as timing_s/*, their
 * sum as timing_s/step, perf/throughput (response tokens per second of the whole step), test
 * accuracies as val/test_score/<benchmark>, reflection counts as rlvr/reflection/<word>, and every
 * other number or boolean as rlvr/<key>.
 */
export function verlNamedScalars(record: Readonly<Record<string, unknown>>): NamedValue[] {
  const out: NamedValue[] = [];
  for (const [key, v] of Object.entries(record)) {
    if (SKIP.has(key)) continue;
    if (typeof v === "number") out.push({ tag: BY_KEY.get(key) ?? `rlvr/${key}`, value: v });
    else if (typeof v === "boolean") out.push({ tag: `rlvr/${key}`, value: v ? 1 : 0 });
  }
  const phases = record.phase_s;
  if (phases && typeof phases === "object") {
    let total = 0;
    for (const [phase, s] of Object.entries(phases as Record<string, unknown>)) {
      if (typeof s !== "number") continue;
      total += s;
      out.push({ tag: PHASE_NAMES[phase] ?? `timing_s/${phase}`, value: s });
    }
    out.push({ tag: "timing_s/step", value: total });
    const tokens = record.generated_tokens;
    if (typeof tokens === "number" && total > 0) out.push({ tag: "perf/throughput", value: tokens / total });
  }
  for (const [group, prefix] of [["test", "val/test_score/"], ["reflection", "rlvr/reflection/"]] as const) {
    const m = record[group];
    if (m && typeof m === "object") for (const [k, v] of Object.entries(m as Record<string, unknown>)) if (typeof v === "number") out.push({ tag: prefix + k, value: v });
  }
  return out;
}
