// An allocation that failed inside a step names the settings that size that phase's memory.
// The native layer reports host and device allocation failures alike as OutOfMemoryError; the
// trainer knows which phase was running and which config keys bound its batch.
import { OutOfMemoryError, RlvrError } from "@rlvr/native";

import type { TrainConfig } from "./config.js";

/** The run stopped because an allocation failed; `key` is the first setting to lower. */
export class TrainOutOfMemoryError extends RlvrError {
  constructor(
    message: string,
    readonly step: number,
    readonly phase: string,
    readonly keys: readonly string[],
  ) {
    super(message, "ERR_RLVR_OUT_OF_MEMORY", keys[0]);
  }
}

/** What sizes each phase's memory, as config keys with their values in `c`. */
export function memorySettings(phase: string, c: TrainConfig): { keys: string[]; what: string } {
  const budget = c.model.activationBudgetMB === undefined ? "the backend's default" : `${c.model.activationBudgetMB} MB`;
  switch (phase) {
    case "rollout":
    case "eval":
      return {
        keys: ["rollout.maxBatch", phase === "eval" ? "eval.maxNewTokens" : "data.maxResponseLength"],
        what:
          `the KV cache of rollout.maxBatch (${c.rollout.maxBatch}) sequences of up to ` +
          (phase === "eval" ? `eval.maxNewTokens (${c.eval.maxNewTokens})` : `data.maxResponseLength (${c.data.maxResponseLength})`) +
          ` new tokens each`,
      };
    case "old_logp":
    case "ref_logp":
    case "values":
      return {
        keys: ["actor.logProbMaxTokens", "actor.logProbMicroBatchSize"],
        what: `scoring calls of up to actor.logProbMaxTokens (${c.actor.logProbMaxTokens}) token slots and actor.logProbMicroBatchSize (${c.actor.logProbMicroBatchSize}) responses`,
      };
    case "update":
    case "critic":
      return {
        keys: ["actor.maxTokensPerMicroBatch", "actor.microBatchSize", "model.activationBudgetMB"],
        what:
          `forward-backward calls of up to actor.microBatchSize (${c.actor.microBatchSize}) responses` +
          (c.actor.maxTokensPerMicroBatch > 0 ? ` and actor.maxTokensPerMicroBatch (${c.actor.maxTokensPerMicroBatch}) token slots` : " (actor.maxTokensPerMicroBatch is 0: no token budget; set one)") +
          `, keeping activations up to model.activationBudgetMB (${budget}; lower means per-layer recompute)`,
      };
    default:
      return { keys: ["model.path"], what: "the model's weights, gradients and optimizer state (and the reference model's weights when the KL term is on)" };
  }
}

/**
 * The error to stop the run with when `e` is an allocation failure in `phase` of `step`, else
 * null. `lastCheckpoint`: where a resume starts (nothing of the failed step is saved).
 */
export function outOfMemoryStop(
  e: unknown, step: number, phase: string, c: TrainConfig, lastCheckpoint: { step: number; dir: string } | null,
): TrainOutOfMemoryError | null {
  if (!(e instanceof OutOfMemoryError)) return null;
  const { keys, what } = memorySettings(phase, c);
  const resume = lastCheckpoint
    ? `the last checkpoint ${lastCheckpoint.dir} (step ${lastCheckpoint.step}) is intact: run the same command with a lower setting to resume from it`
    : "no checkpoint was written yet: run again with a lower setting";
  return new TrainOutOfMemoryError(
    `out of memory in step ${step} (${phase}): ${e.message}. This phase's memory is ${what}: lower ${keys.join(" or ")}. ` +
      `Nothing of step ${step} was saved; ${resume}`,
    step,
    phase,
    keys,
  );
}
