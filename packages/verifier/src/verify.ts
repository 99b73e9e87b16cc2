// In-process verification. It screens hostile answers but has no hard time limit of its
// own: the worker pool (pool.ts) gives that, and is what verify()/reward() use.
import { RejectedAnswer, equivalent, type Method } from "./equivalence.js";
import { type ExtractOptions, extractAnswer } from "./extract.js";
import { textDividesByZero } from "./families/divisionByZero.js";
import { LIMITS, screenText } from "./guard.js";
import { normalizeAnswer } from "./normalize.js";
import { readAnswer } from "./read.js";

export interface VerifyOptions extends ExtractOptions {
  /** Hard wall-clock limit of one verification in a worker, in ms (default 5000). */
  timeoutMs?: number;
  /**
   * Reward for a wrong answer that is still well formatted (an answer was extracted). Off
   * (0) by default: the paper's reward is 1 for correct, 0 otherwise.
   */
  formatReward?: number;
}

export type Reason =
  | `equal:${Method}`
  | "not-equal"
  | "no-answer"
  | "empty-gold"
  | `rejected:${string}`
  | "timeout"
  | "worker-error";

export interface VerifyResult {
  correct: boolean;
  /** The answer taken from the response, as written; null when there is none. */
  extracted: string | null;
  /** The gold answer after normalization. */
  goldParsed: string;
  reason: Reason;
}

/** Longest response read; the answer is at its end, so the tail is kept. */
const MAX_RESPONSE_CHARS = 200_000;

function goldText(gold: string): string {
  // A gold given as a full solution (Minerva) carries its answer in \boxed{}.
  return gold.includes("\\boxed") ? (extractAnswer(gold) ?? gold) : gold;
}

/**
 * Longest gold answer (after taking it out of a \boxed{} solution) and longest gold text at
 * all. No answer that passes the screen can equal a longer one, and refusing it bounds the
 * work (normalization, parsing) a gold can cause.
 */
const MAX_GOLD_ANSWER_CHARS = 4 * LIMITS.maxAnswerLength;
const MAX_GOLD_CHARS = MAX_RESPONSE_CHARS;

export function verifySync(response: string, gold: string, options: VerifyOptions = {}): VerifyResult {
  const text = typeof response === "string" ? response : String(response ?? "");
  const tail = text.length > MAX_RESPONSE_CHARS ? text.slice(-MAX_RESPONSE_CHARS) : text;
  const goldRaw = String(gold ?? "");
  const goldAnswer = goldRaw.length > MAX_GOLD_CHARS ? null : goldText(goldRaw);
  const extracted = extractAnswer(tail, options);
  if (goldAnswer === null || goldAnswer.length > MAX_GOLD_ANSWER_CHARS) {
    return { correct: false, extracted, goldParsed: "", reason: "rejected:gold-too-long" };
  }
  const goldParsed = normalizeAnswer(goldAnswer);
  if (goldParsed === "") return { correct: false, extracted, goldParsed, reason: "empty-gold" };
  if (extracted === null) return { correct: false, extracted, goldParsed, reason: "no-answer" };
  // Normalizing a megabyte of box content is wasted work: refuse it on its raw length.
  if (extracted.length > 4 * LIMITS.maxAnswerLength) return { correct: false, extracted, goldParsed, reason: "rejected:too-long" };
  const pred = normalizeAnswer(extracted);
  if (pred === "") return { correct: false, extracted, goldParsed, reason: "no-answer" };
  if (pred === goldParsed && !textDividesByZero(pred)) return { correct: true, extracted, goldParsed, reason: "equal:string" };
  const screened = screenText(pred);
  if (screened) return { correct: false, extracted, goldParsed, reason: `rejected:${screened}` };
  try {
    const verdict = equivalent(readAnswer(goldParsed), readAnswer(pred), { ...options, written: { gold: goldAnswer, pred: extracted } });
    return { correct: verdict.equal, extracted, goldParsed, reason: verdict.equal ? `equal:${verdict.method ?? "structure"}` : "not-equal" };
  } catch (err) {
    if (err instanceof RejectedAnswer) return { correct: false, extracted, goldParsed, reason: `rejected:${err.why}` };
    throw err;
  }
}

/** The reward of a verified response: 1 if correct; else formatReward when an answer was given, else 0. */
export function rewardOf(result: VerifyResult, options: VerifyOptions = {}): number {
  if (result.correct) return 1;
  return result.extracted !== null && result.reason !== "timeout" ? (options.formatReward ?? 0) : 0;
}

export function rewardSync(response: string, gold: string, options: VerifyOptions = {}): number {
  return rewardOf(verifySync(response, gold, options), options);
}
