// The qwen-math grader's numeric leniency, decided on exact rationals: two numbers are close
// when |a − b| <= 1e-4 · max(|a|, |b|) (Python's isclose with rel_tol = 1e-4, as the Qwen2.5-Math
// grader compares numbers); a plain-number gold g also matches g/100 and 100·g (its percent
// leniency: 50% ≈ 0.5 ≈ 50).
import { type Rational, mul, rat, sub } from "../rational.js";

const abs = (r: Rational): Rational => (r.n < 0n ? { n: -r.n, d: r.d } : r);
const lessOrEqual = (a: Rational, b: Rational): boolean => a.n * b.d <= b.n * a.d;
const max = (a: Rational, b: Rational): Rational => (lessOrEqual(a, b) ? b : a);

const REL_TOL = rat(1n, 10_000n);

export function relativelyClose(a: Rational, b: Rational): boolean {
  return lessOrEqual(abs(sub(a, b)), mul(REL_TOL, max(abs(a), abs(b))));
}

/** Close to g, g/100 or 100·g (the gold's percent readings). */
export function closeWithPercent(gold: Rational, pred: Rational): boolean {
  return [gold, mul(gold, rat(1n, 100n)), mul(gold, rat(100n))].some((g) => relativelyClose(g, pred));
}

/** A plain number as Qwen's is_digit sees it: digits, one decimal point, an optional sign. */
export const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
