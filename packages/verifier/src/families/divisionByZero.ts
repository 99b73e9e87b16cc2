// A division by zero has no value, so it equals nothing, not even the same text: 1/0 and -1/0
// both simplify to the engine's complex infinity, and a gold written so is broken data.
import { parseRaw, type MathJson } from "../engine.js";
import { exactValue } from "../exact.js";

/** True when the tree divides by something that evaluates exactly to 0. */
export function dividesByZero(tree: MathJson): boolean {
  if (!Array.isArray(tree)) return false;
  const [head, ...args] = tree;
  if ((head === "Divide" || head === "Rational") && args.length === 2) {
    try {
      const d = exactValue(args[1]!);
      if (d !== null && d.n === 0n) return true;
    } catch {
      // too large to evaluate: certainly not zero
    }
  }
  return args.some(dividesByZero);
}

// Only a text with a 0 in a second brace group ("\frac{1}{0}", "\frac{3}{x-0}") or after a "/"
// is parsed, so the common case (an answer equal as text) stays a string compare. A zero
// denominator written without a 0 ("\frac{1}{1-1}") is caught only when the texts differ.
const MAYBE = /\}\s*\{[^{}]*0|\/\s*\(?[^{}/]*?0/;

/** Whether an answer's text divides by zero (the same check as dividesByZero, on the text). */
export function textDividesByZero(latex: string): boolean {
  if (!MAYBE.test(latex)) return false;
  const tree = parseRaw(latex);
  return tree !== null && dividesByZero(tree);
}
