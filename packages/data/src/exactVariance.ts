// Exact population variance of accuracy histories. Accuracies are fractions (k of n rollouts
// rewarded), so the variance is a rational number: computed over BigInt, two histories tie
// exactly when their variances are equal, and float noise never orders a tie.

/** A reduced fraction n/d with d > 0. */
export interface Fraction {
  n: bigint;
  d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function reduce(n: bigint, d: bigint): Fraction {
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

/** The double's exact binary value: x = p / 2^k (doubles are dyadic rationals). */
function dyadic(x: number): Fraction {
  let q = 1n;
  let y = x;
  while (!Number.isInteger(y)) {
    y *= 2; // exact: a double with a fractional part is below 2^53, doubling never rounds
    q *= 2n;
  }
  return reduce(BigInt(y), q);
}

/** Largest denominator tried when recovering the fraction a stored accuracy was printed from. */
export const MAX_DENOMINATOR = 1_000_000n;

/**
 * The fraction a stored accuracy stands for: the one with the smallest denominator (up to
 * MAX_DENOMINATOR) that reads back as the same double (0.3333333333333333 -> 1/3, 0.375 -> 3/8),
 * found among the continued-fraction convergents; else the double's exact binary value.
 */
export function accuracyFraction(x: number): Fraction {
  if (!Number.isFinite(x)) throw new RangeError(`accuracy ${x} is not a finite number`);
  const negative = x < 0;
  let rest = Math.abs(x);
  // convergents h/k of the continued fraction of |x|
  let [h0, h1, k0, k1] = [0n, 1n, 1n, 0n];
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(rest);
    const ai = BigInt(a);
    [h0, h1] = [h1, ai * h1 + h0];
    [k0, k1] = [k1, ai * k1 + k0];
    if (k1 > MAX_DENOMINATOR) break;
    if (Number(h1) / Number(k1) === Math.abs(x)) return reduce(negative ? -h1 : h1, k1);
    const frac = rest - a;
    if (frac === 0) break;
    rest = 1 / frac;
  }
  return dyadic(x);
}

/** Population variance (divide by the length) of the accuracies, exactly; 0 for an empty list. */
export function exactPopulationVariance(values: readonly number[]): Fraction {
  const N = BigInt(values.length);
  if (N === 0n) return { n: 0n, d: 1n };
  // Σx and Σx² over a common denominator D
  const fractions = values.map(accuracyFraction);
  let D = 1n;
  for (const f of fractions) D = (D / gcd(D, f.d)) * f.d;
  let s1 = 0n;
  let s2 = 0n;
  for (const f of fractions) {
    const num = f.n * (D / f.d);
    s1 += num;
    s2 += num * num;
  }
  // var = Σx²/N − (Σx/N)² = (N·S2 − S1²) / (N²·D²)
  return reduce(N * s2 - s1 * s1, N * N * D * D);
}

/** Sign of a − b. */
export function compareFractions(a: Fraction, b: Fraction): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** √variance as a double; equal fractions give equal doubles. */
export function fractionSqrt(f: Fraction): number {
  return Math.sqrt(Number(f.n) / Number(f.d));
}
