// Whether two expressions in the same unknowns are constant multiples of each other:
// f = c·g with c a nonzero rational constant. Decided exactly, by substituting the same
// rational values for every unknown at several points and evaluating both sides with BigInt
// rationals (exact.ts): polynomial and rational expressions only (lines, conics, linear
// inequalities); anything that does not evaluate to a rational (roots of unknowns, trig) gives
// null, and the caller falls back to its other checks. Two rational functions that agree on
// this many generic points are proportional with overwhelming probability; the points are
// fixed, so verdicts never vary between runs.
import type { MathJson } from "../engine.js";
import { exactValue } from "../exact.js";
import { type Rational, div, equals, rat, TooLargeError } from "../rational.js";

/** Unknowns: symbol leaves. Constants named as symbols (Pi, e) are unknowns too: an identity in them holds for their values. */
function symbols(json: MathJson, out: Set<string>): Set<string> {
  if (typeof json === "string") out.add(json);
  else if (Array.isArray(json)) for (const arg of json.slice(1)) symbols(arg, out);
  return out;
}

function substitute(json: MathJson, values: ReadonlyMap<string, Rational>): MathJson {
  if (typeof json === "string") {
    const v = values.get(json);
    return v ? ["Divide", { num: v.n.toString() }, { num: v.d.toString() }] : json;
  }
  if (!Array.isArray(json)) return json;
  const [head, ...args] = json;
  return [head!, ...args.map((a) => substitute(a, values))];
}

// Small distinct rationals of both signs (an identity that holds only for positive values, like
// √(x²) = x, must fail), unlikely to be roots of an answer's polynomials.
const NUMERATORS = [7n, -11n, 13n, -17n, 19n, -23n, 29n, -31n, 37n, -41n];
const DENOMINATORS = [3n, 5n, 2n, 9n, 4n, 11n, 7n, 13n];

function point(k: number, names: readonly string[]): Map<string, Rational> {
  const values = new Map<string, Rational>();
  names.forEach((name, i) => {
    const n = NUMERATORS[(k + 3 * i) % NUMERATORS.length]!;
    const d = DENOMINATORS[(2 * k + i) % DENOMINATORS.length]!;
    values.set(name, rat(n, d));
  });
  return values;
}

function valueAt(json: MathJson, values: ReadonlyMap<string, Rational>): Rational | null {
  try {
    return exactValue(substitute(json, values));
  } catch (err) {
    if (err instanceof TooLargeError) return null;
    throw err;
  }
}

const POINTS = 8;
const MIN_USABLE = 5;

/**
 * The constant c with f = c·g, or null when there is none, when f or g is identically zero,
 * or when they cannot be evaluated exactly. Both must use the same unknowns.
 */
export function proportionality(f: MathJson, g: MathJson): Rational | null {
  const fs = symbols(f, new Set());
  const gs = symbols(g, new Set());
  if (fs.size !== gs.size || [...fs].some((s) => !gs.has(s))) return null;
  const names = [...fs].sort();
  if (names.length === 0) return null; // constants: any two nonzero ones are "proportional"
  let ratio: Rational | null = null;
  let usable = 0;
  for (let k = 0; k < POINTS; k++) {
    const values = point(k, names);
    const fv = valueAt(f, values);
    const gv = valueAt(g, values);
    if (fv === null || gv === null) {
      if (k === 0) return null; // not rational at a generic point: not this family
      continue;
    }
    if (gv.n === 0n || fv.n === 0n) {
      if (gv.n !== fv.n) return null; // a zero of one side only
      continue;
    }
    const r = div(fv, gv);
    if (ratio !== null && !equals(ratio, r)) return null;
    ratio = r;
    usable++;
  }
  return usable >= MIN_USABLE ? ratio : null;
}
