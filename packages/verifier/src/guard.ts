// Screens an answer before anything expensive sees it. The engine canonicalizes eagerly
// (2^{2^{2^{2^{2^2}}}} would be computed), so towers, huge factorials and deep nesting are
// refused on the text and on the raw parse tree, which is built without evaluating anything.
import type { MathJson } from "./engine.js";
import { exactValue, FACTORIAL_LIMIT } from "./exact.js";
import { nestingDepth } from "./latex.js";
import { TooLargeError } from "./rational.js";

export const LIMITS = {
  /** Characters of one normalized answer. */
  maxAnswerLength: 2_000,
  /** Bracket nesting in the text and depth of the parse tree. */
  maxDepth: 40,
  /** Exponents up to this are evaluated; beyond it only 0, ±1 and symbolic bases pass. */
  maxExponent: 10_000,
  /** Digits in one number literal. */
  maxDigits: 5_000,
} as const;

export type Rejection = "too-long" | "too-deep" | "huge-power" | "huge-factorial" | "huge-number" | "unsupported-operator";

/** Operators the engine may loop on or that are not answers. */
const REFUSED_HEADS = new Set(["Sum", "Product", "Integrate", "Limit", "D", "Derivative", "Loop", "Assign", "Function", "Apply"]);

export function screenText(latex: string): Rejection | null {
  if (latex.length > LIMITS.maxAnswerLength) return "too-long";
  if (nestingDepth(latex) > LIMITS.maxDepth) return "too-deep";
  if (/\d{5001}/.test(latex)) return "huge-number";
  return null;
}

function isSmallBase(json: MathJson): boolean {
  try {
    const v = exactValue(json);
    return v !== null && v.d === 1n && v.n >= -1n && v.n <= 1n;
  } catch {
    return false;
  }
}

function magnitudeTooBig(json: MathJson, limit: bigint): boolean | null {
  try {
    const v = exactValue(json);
    if (v === null) return null;
    const whole = v.n / v.d;
    return whole > limit || whole < -limit;
  } catch (err) {
    if (err instanceof TooLargeError) return true;
    throw err;
  }
}

export function screenTree(json: MathJson, depth = 0): Rejection | null {
  if (depth > LIMITS.maxDepth) return "too-deep";
  if (typeof json === "object" && !Array.isArray(json) && "num" in json && json.num.length > LIMITS.maxDigits) return "huge-number";
  if (!Array.isArray(json)) return null;
  const [head, ...args] = json;
  if (typeof head === "string" && REFUSED_HEADS.has(head)) return "unsupported-operator";
  for (const arg of args) {
    const inner = screenTree(arg, depth + 1);
    if (inner) return inner;
  }
  if (head === "Power" && args.length === 2) {
    const [base, exponent] = args as [MathJson, MathJson];
    // Arguments were screened first, so in a tower the inner powers are already known small.
    if (!isSmallBase(base) && magnitudeTooBig(exponent, BigInt(LIMITS.maxExponent)) === true) return "huge-power";
  }
  if (head === "Factorial" || head === "Factorial2" || head === "Gamma") {
    if (magnitudeTooBig(args[0] ?? 0, FACTORIAL_LIMIT) === true) return "huge-factorial";
  }
  return null;
}
