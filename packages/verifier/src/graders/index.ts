// Graders by name, each a function from (response, gold) to a verdict. See names.ts for what
// each one does; the options travel to the worker pool as VerifyOptions.grader.
import { verifySync, type VerifyOptions, type VerifyResult } from "../verify.js";
import type { GraderName } from "./names.js";

export { GRADER_NAMES, GRADER_DOCS, UnknownGraderError, checkGraderName, isGraderName, type GraderName } from "./names.js";
export { qwenMathAnswer, type QwenAnswer, type QwenExtraction } from "./qwenMathExtract.js";

export type Grader = (response: string, gold: string) => VerifyResult;

/** Today's strict grader, the training reward's default: the last \boxed{} group only. */
export const boxedGrader: Grader = (response, gold) => verifySync(response, gold, { grader: "boxed" });

/** The Qwen2.5-Math protocol: extraction cascade, relative tolerance 1e-4, percent leniency. */
export const qwenMathGrader: Grader = (response, gold) => verifySync(response, gold, { grader: "qwen-math" });

export const GRADERS: Readonly<Record<GraderName, Grader>> = { boxed: boxedGrader, "qwen-math": qwenMathGrader };

/** Options that select a grader (for VerifierPool.verify / verifyBatch). */
export function graderOptions(grader: GraderName, options: VerifyOptions = {}): VerifyOptions {
  return { ...options, grader };
}
