// The verifier's case table: every case says why its verdict is right.
import { extraction } from "./extraction.js";
import { divisionByZero, equations, inequalities, joinedAnswers, labeledAnswers, otherForms, percentWords, rationalFunctions, setExpressions } from "./families.js";
import { latexCleanup } from "./latex.js";
import { matrices } from "./matrices.js";
import { multilingual } from "./multilingual.js";
import { numberFormats } from "./numbers.js";
import { pathological } from "./pathological.js";
import { numericPrecision } from "./precision.js";
import { relations } from "./relations.js";
import { sets } from "./sets.js";
import { symbolic } from "./symbolic.js";
import { textAnswers } from "./text.js";
import type { Case } from "./types.js";

export type { Case } from "./types.js";

export const CASES: Record<string, Case[]> = {
  extraction,
  sets,
  relations,
  numberFormats,
  latexCleanup,
  symbolic,
  textAnswers,
  matrices,
  numericPrecision,
  multilingual,
  labeledAnswers,
  joinedAnswers,
  equations,
  inequalities,
  setExpressions,
  percentWords,
  divisionByZero,
  rationalFunctions,
  otherForms,
  pathological,
};

/** The categories added for the equivalence families of issue 20 (both graders must agree on them). */
export const FAMILY_CATEGORIES = ["labeledAnswers", "joinedAnswers", "equations", "inequalities", "setExpressions", "percentWords", "divisionByZero", "rationalFunctions", "otherForms"] as const;

export function responseOf(c: Case): string {
  return c.raw ? c.response : `The answer is $\\boxed{${c.response}}$.`;
}
