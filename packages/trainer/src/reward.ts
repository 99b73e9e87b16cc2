// Rewards through the verifier's worker pool (batch API).
import { VerifierPool, rewardOf, type GraderName } from "@rlvr/verifier";

export interface RewardItem {
  response: string;
  gold: string;
  exampleIndex: number;
}

export interface RewardResult {
  /** The scalar reward placed on the last response token. */
  score: number;
  /** The answer was correct (training accuracy counts these). */
  correct: boolean;
  /** The answer the grader took from the response (null: none), for the rollout logs. */
  extracted?: string | null;
}

/** Scores a batch of responses, in order. */
export type RewardFunction = (items: readonly RewardItem[]) => Promise<RewardResult[]>;

/** The paper's rule-based reward (1 correct / formatReward boxed-but-wrong / 0) on a verifier pool. */
export function verifierReward(pool: VerifierPool, opts: { formatReward: number; timeoutMs: number; grader?: GraderName }): RewardFunction {
  return async (items) => {
    const results = await pool.verifyBatch(items.map((i) => ({ response: i.response, gold: i.gold })), {
      timeoutMs: opts.timeoutMs,
      formatReward: opts.formatReward,
      ...(opts.grader ? { grader: opts.grader } : {}),
    });
    return results.map((r) => ({ score: rewardOf(r, { formatReward: opts.formatReward }), correct: r.correct, extracted: r.extracted }));
  };
}
