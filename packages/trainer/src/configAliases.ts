// Config keys as verl users write them: verl's snake_case keys accepted as aliases where they map
// one to one onto an rlvr key, any snake_case spelling of an rlvr key accepted, and a "did you
// mean …?" for a mistyped key.
import { distance } from "fastest-levenshtein";

/** verl key (Hydra path) -> rlvr key, where the meaning is the same. */
export const VERL_KEY_ALIASES: Readonly<Record<string, string>> = {
  "data.train_files": "data.train",
  "data.train_batch_size": "data.trainBatchSize",
  "data.max_prompt_length": "data.maxPromptLength",
  "data.max_response_length": "data.maxResponseLength",
  "algorithm.adv_estimator": "algorithm.advEstimator",
  "algorithm.norm_adv_by_std_in_grpo": "algorithm.normStd",
  "algorithm.lam": "algorithm.lambda",
  "actor_rollout_ref.model.path": "model.path",
  "actor_rollout_ref.rollout.n": "rollout.n",
  "actor_rollout_ref.rollout.temperature": "rollout.temperature",
  "actor_rollout_ref.rollout.top_p": "rollout.topP",
  "actor_rollout_ref.rollout.top_k": "rollout.topK",
  "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": "actor.logProbMicroBatchSize",
  "actor_rollout_ref.actor.optim.lr": "actor.lr",
  "actor_rollout_ref.actor.optim.lr_warmup_steps": "actor.lrWarmupSteps",
  "actor_rollout_ref.actor.optim.weight_decay": "actor.weightDecay",
  "actor_rollout_ref.actor.grad_clip": "actor.gradClip",
  "actor_rollout_ref.actor.ppo_mini_batch_size": "actor.ppoMiniBatchSize",
  "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": "actor.microBatchSize",
  "actor_rollout_ref.actor.ppo_max_token_len_per_gpu": "actor.maxTokensPerMicroBatch",
  "actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu": "actor.logProbMaxTokens",
  "actor_rollout_ref.actor.ppo_epochs": "actor.ppoEpochs",
  "actor_rollout_ref.actor.clip_ratio_low": "actor.clipLow",
  "actor_rollout_ref.actor.clip_ratio_high": "actor.clipHigh",
  "actor_rollout_ref.actor.clip_ratio_c": "actor.dualClip",
  "actor_rollout_ref.actor.use_kl_loss": "loss.kl",
  "actor_rollout_ref.actor.kl_loss_coef": "actor.klCoef",
  "actor_rollout_ref.actor.kl_loss_type": "actor.klType",
  "actor_rollout_ref.actor.entropy_coeff": "actor.entropyCoeff",
  "actor_rollout_ref.actor.loss_agg_mode": "actor.lossAgg",
  "critic.optim.lr": "critic.lr",
  "critic.optim.weight_decay": "critic.weightDecay",
  "critic.grad_clip": "critic.gradClip",
  "critic.cliprange_value": "critic.cliprangeValue",
  "trainer.total_training_steps": "trainer.totalSteps",
  "trainer.save_freq": "trainer.saveFreq",
  "trainer.test_freq": "trainer.testFreq",
  "trainer.default_local_dir": "trainer.outDir",
  "trainer.max_actor_ckpt_to_keep": "trainer.keepCheckpoints",
  "trainer.val_before_train": "eval.beforeTrain",
  "trainer.logger": "trainer.loggers",
  "trainer.project_name": "trainer.project",
  "trainer.experiment_name": "trainer.experiment",
};

const snakeToCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The rlvr key a dotted key stands for: itself when known, its verl alias, or its snake_case
 * segments in camelCase when that names a known key. `isKey` answers whether a dotted key exists
 * in the schema (a section or a leaf). Null when no rewrite applies.
 */
export function canonicalKey(key: string, isKey: (dotted: string) => boolean): string | null {
  if (isKey(key)) return null;
  const alias = VERL_KEY_ALIASES[key];
  if (alias !== undefined) return alias;
  const camel = key.split(".").map(snakeToCamel).join(".");
  return camel !== key && isKey(camel) ? camel : null;
}

/** The closest known key to a mistyped one, when it is close enough to be what was meant. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const section = (s: string) => s.slice(0, Math.max(0, s.lastIndexOf(".")));
  const last = (s: string) => s.slice(s.lastIndexOf(".") + 1);
  let best: string | null = null;
  let bestScore = Infinity;
  for (const k of known) {
    // whole keys, or last segments within the same section; case and separators ignored (train_batch_size ~ trainBatchSize)
    const whole = distance(norm(key), norm(k));
    const leaf = section(key) === section(k) ? distance(norm(last(key)), norm(last(k))) : Infinity;
    const d = Math.min(whole, leaf);
    if (d < bestScore) {
      bestScore = d;
      best = k;
    }
  }
  if (best === null) return null;
  // a third of the key's length, at least 1 and at most 3 edits
  const limit = Math.min(3, Math.max(1, Math.floor(norm(last(key)).length / 3)));
  return bestScore <= limit ? best : null;
}
