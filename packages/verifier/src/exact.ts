// Exact evaluation of a parse tree to a BigInt rational, for answers that are rational
// numbers however written (12.8, 64/5, 2^{-3}, 1/2004!, \sqrt{16}/3). Returns null for
// anything else (irrationals, variables), which then goes to the symbolic step.
import type { MathJson } from "./engine.js";
import { type Rational, ONE, ZERO, add, div, exactRoot, factorial, fromDecimal, isInteger, mul, neg, pow, rat, sub, TooLargeError } from "./rational.js";

export const FACTORIAL_LIMIT = 5_000n;
const MAX_EXPONENT = 100_000n;

class NotRational extends Error {}

function literal(json: MathJson): Rational {
  if (typeof json === "number") {
    if (!Number.isFinite(json)) throw new NotRational();
    if (Number.isInteger(json) && Math.abs(json) <= Number.MAX_SAFE_INTEGER) return rat(BigInt(json));
    const r = fromDecimal(String(json));
    if (!r) throw new NotRational();
    return r;
  }
  if (typeof json === "object" && !Array.isArray(json) && "num" in json) {
    const r = fromDecimal(json.num.replace(/n$/, ""));
    if (!r) throw new NotRational();
    return r;
  }
  throw new NotRational();
}

function integerOf(r: Rational): bigint {
  if (!isInteger(r)) throw new NotRational();
  return r.n;
}

function root(x: Rational, k: bigint): Rational {
  if (k <= 0n || k > 1000n) throw new NotRational();
  const n = exactRoot(x.n, k);
  const d = exactRoot(x.d, k);
  if (n === null || d === null) throw new NotRational();
  return rat(n, d);
}

function power(base: Rational, exponent: Rational): Rational {
  if (exponent.n > MAX_EXPONENT || exponent.n < -MAX_EXPONENT) {
    if (base.d === 1n && (base.n === 1n || base.n === 0n || base.n === -1n)) return pow(base, exponent.n % 2n === 0n ? 2n : 1n);
    throw new TooLargeError("power");
  }
  const p = pow(base, exponent.n);
  return exponent.d === 1n ? p : root(p, exponent.d);
}

function binomial(n: bigint, k: bigint): Rational {
  if (k < 0n || n < 0n || k > n) return ZERO;
  if (k > n - k) k = n - k;
  if (k > FACTORIAL_LIMIT) throw new TooLargeError("binomial");
  let r = 1n;
  for (let i = 1n; i <= k; i++) r = (r * (n - k + i)) / i;
  return rat(r);
}

function evaluate(json: MathJson): Rational {
  if (!Array.isArray(json)) return literal(json);
  const [head, ...args] = json;
  const ev = (i: number): Rational => evaluate(args[i] ?? "Nothing");
  switch (head) {
    case "Delimiter":
      if (args.length !== 1) throw new NotRational();
      return ev(0);
    case "Add":
      return args.map(evaluate).reduce(add, ZERO);
    case "Subtract":
      return args.length === 1 ? neg(ev(0)) : sub(ev(0), ev(1));
    case "Negate":
      return neg(ev(0));
    case "Multiply":
    case "InvisibleOperator":
      return args.map(evaluate).reduce(mul, ONE);
    case "Divide":
    case "Rational":
      return div(ev(0), ev(1));
    case "Power":
      return power(ev(0), ev(1));
    case "Square":
      return pow(ev(0), 2n);
    case "Sqrt":
      return root(ev(0), 2n);
    case "Root":
      return root(ev(0), integerOf(ev(1)));
    case "Factorial":
      return factorial(integerOf(ev(0)), FACTORIAL_LIMIT);
    case "Binomial":
      return binomial(integerOf(ev(0)), integerOf(ev(1)));
    case "Abs": {
      const v = ev(0);
      return v.n < 0n ? neg(v) : v;
    }
    default:
      throw new NotRational();
  }
}

/** The exact rational value, or null. Throws TooLargeError when the value is too big to hold. */
export function exactValue(json: MathJson): Rational | null {
  try {
    return evaluate(json);
  } catch (err) {
    if (err instanceof TooLargeError) throw err;
    return null; // not rational, division by zero, negative factorial...
  }
}
