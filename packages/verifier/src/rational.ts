// Exact rationals over BigInt. Every value is kept reduced with a positive denominator,
// so equality is structural.

export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

/** Results above this many bits are refused: the caller treats them as "not exactly computable". */
export const MAX_BITS = 400_000;

export class TooLargeError extends Error {
  constructor(what: string) {
    super(`exact value too large: ${what}`);
    this.name = "TooLargeError";
  }
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bitLength(x: bigint): number {
  return (x < 0n ? -x : x).toString(16).length * 4;
}

function checkSize(r: Rational, what: string): Rational {
  if (bitLength(r.n) + bitLength(r.d) > MAX_BITS) throw new TooLargeError(what);
  return r;
}

export function rat(n: bigint, d: bigint = 1n): Rational {
  if (d === 0n) throw new RangeError("division by zero");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g === 1n || g === 0n ? { n, d } : { n: n / g, d: d / g };
}

export const ZERO = rat(0n);
export const ONE = rat(1n);

export const add = (a: Rational, b: Rational): Rational => checkSize(rat(a.n * b.d + b.n * a.d, a.d * b.d), "sum");
export const sub = (a: Rational, b: Rational): Rational => add(a, neg(b));
export const mul = (a: Rational, b: Rational): Rational => checkSize(rat(a.n * b.n, a.d * b.d), "product");
export const neg = (a: Rational): Rational => ({ n: -a.n, d: a.d });
export const div = (a: Rational, b: Rational): Rational => {
  if (b.n === 0n) throw new RangeError("division by zero");
  return checkSize(rat(a.n * b.d, a.d * b.n), "quotient");
};
export const equals = (a: Rational, b: Rational): boolean => a.n === b.n && a.d === b.d;
export const isInteger = (a: Rational): boolean => a.d === 1n;

export function pow(base: Rational, exponent: bigint): Rational {
  if (exponent < 0n) return pow(div(ONE, base), -exponent);
  const bits = Math.max(bitLength(base.n), bitLength(base.d));
  if (bits > 1 && Number(exponent) * bits > MAX_BITS) throw new TooLargeError("power");
  if (bits <= 1 && exponent > BigInt(MAX_BITS)) {
    // base is 0, ±1: the result is small whatever the exponent
    const odd = exponent % 2n === 1n;
    return rat(odd ? base.n : base.n * base.n, 1n);
  }
  return rat(base.n ** exponent, base.d ** exponent);
}

/** Integer k-th root when exact, else null. */
export function exactRoot(x: bigint, k: bigint): bigint | null {
  if (x < 0n) {
    if (k % 2n === 0n) return null;
    const r = exactRoot(-x, k);
    return r === null ? null : -r;
  }
  if (x < 2n) return x;
  // Newton iteration on integers, started above the root
  const kn = Number(k);
  let r = 1n << BigInt(Math.ceil(bitLength(x) / kn) + 1);
  for (;;) {
    const next = ((k - 1n) * r + x / r ** (k - 1n)) / k;
    if (next >= r) break;
    r = next;
  }
  return r ** k === x ? r : null;
}

export function factorial(n: bigint, limit: bigint): Rational {
  if (n < 0n) throw new RangeError("factorial of a negative number");
  if (n > limit) throw new TooLargeError("factorial");
  let f = 1n;
  for (let i = 2n; i <= n; i++) f *= i;
  return rat(f);
}

/** Parses a plain decimal literal ("-12.50", "3e-4") exactly. */
export function fromDecimal(text: string): Rational | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = m[3] ?? "";
  let n = BigInt((m[2] || "0") + frac);
  let d = 10n ** BigInt(frac.length);
  const e = Number(m[4] ?? "0");
  if (Math.abs(e) > 100_000) throw new TooLargeError("exponent");
  if (e > 0) n *= 10n ** BigInt(e);
  else if (e < 0) d *= 10n ** BigInt(-e);
  if (m[1] === "-") n = -n;
  return rat(n, d);
}

/** Decimal string of r rounded half away from zero to `places` decimals. */
export function toFixed(r: Rational, places: number): string {
  const scale = 10n ** BigInt(places);
  const negative = r.n < 0n;
  const absN = negative ? -r.n : r.n;
  const scaled = (absN * scale * 2n + r.d) / (2n * r.d);
  const s = scaled.toString().padStart(places + 1, "0");
  const body = places > 0 ? `${s.slice(0, -places)}.${s.slice(-places)}` : s;
  return negative && scaled !== 0n ? `-${body}` : body;
}

export function toString(r: Rational): string {
  return r.d === 1n ? r.n.toString() : `${r.n}/${r.d}`;
}
