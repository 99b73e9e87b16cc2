import { closeSharedPool, sharedPool, VerifierPool, type Pair, type PoolOptions } from "./pool.js";
import { rewardOf, type VerifyOptions, type VerifyResult } from "./verify.js";

export { extractAnswer, answerRegion, type ExtractOptions, type Fallback } from "./extract.js";
export { normalizeAnswer } from "./normalize.js";
export { readAnswer, type Answer } from "./read.js";
export { equivalent, RejectedAnswer, type Method, type Verdict } from "./equivalence.js";
export { LIMITS, type Rejection } from "./guard.js";
export { verifySync, rewardSync, rewardOf, type Reason, type VerifyOptions, type VerifyResult } from "./verify.js";
export { VerifierPool, DEFAULT_TIMEOUT_MS, closeSharedPool, type Pair, type PoolOptions } from "./pool.js";
export { checkTimeLimitMs, InvalidTimeLimitError, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS } from "./timeLimit.js";
export { verifyJsonl, type JsonlSummary } from "./jsonl.js";

/** Verifies one response against the gold in a worker, under a hard time limit (default 5 s). */
export function verify(response: string, gold: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  return sharedPool().verify(response, gold, options);
}

/** The paper's reward: 1 for a correct answer, 0 otherwise (options.formatReward for a wrong but boxed one). */
export async function reward(response: string, gold: string, options: VerifyOptions = {}): Promise<number> {
  return rewardOf(await verify(response, gold, options), options);
}

/** Verifies many pairs concurrently on a temporary pool of worker threads. */
export async function verifyBatch(pairs: readonly Pair[], options: VerifyOptions & PoolOptions = {}): Promise<VerifyResult[]> {
  const pool = new VerifierPool(options);
  try {
    return await pool.verifyBatch(pairs, options);
  } finally {
    await pool.close();
  }
}
export {
  GRADERS,
  GRADER_NAMES,
  GRADER_DOCS,
  UnknownGraderError,
  boxedGrader,
  qwenMathGrader,
  checkGraderName,
  isGraderName,
  qwenMathAnswer,
  type Grader,
  type GraderName,
  type QwenAnswer,
} from "./graders/index.js";
