// A reference for agreement numbers only (never used to grade): verl's rule-based math reward as
// its documentation and the MATH benchmark's normalization describe it, written anew here (no
// code copied). It reads the last \boxed{} (or "\boxed " / \fbox{}) of the response, cleans both
// answers with the MATH string normalization (linebreaks, \!, tfrac/dfrac, \left/\right,
// degrees, \$, a trailing "\text{ " unit, percent, leading zeros, a short "x =" label,
// \sqrt3 and \frac12 braces, spaces, 0.5 as \frac{1}{2}, a/b as \frac{a}{b}) and compares the
// strings. So it is exact-string: no symbolic or numeric equivalence.
import { matchBrace } from "../latex.js";

function lastBoxed(text: string): string | null {
  const at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
  if (at < 0) return null;
  const name = text.startsWith("\\boxed", at) ? "\\boxed" : "\\fbox";
  const after = at + name.length;
  if (text[after] === " ") {
    const rest = text.slice(after + 1);
    return rest.split("$")[0]!.trim();
  }
  if (text[after] !== "{") return null;
  const end = matchBrace(text, after);
  return end < 0 ? null : text.slice(after + 1, end - 1);
}

function fixFracs(s: string): string {
  const parts = s.split("\\frac");
  let out = parts[0]!;
  for (const part of parts.slice(1)) {
    out += "\\frac";
    if (part.startsWith("{")) {
      out += part;
      continue;
    }
    if (part.length < 2) return s;
    const [a, b] = [part[0]!, part[1]!];
    if (b !== "{") out += `{${a}}{${b}}${part.slice(2)}`;
    else out += `{${a}}${b}${part.slice(2)}`;
  }
  return out;
}

function fixSqrt(s: string): string {
  return s.replace(/\\sqrt([^{\\])/g, "\\sqrt{$1}");
}

function fixSlash(s: string): string {
  const m = /^(-?\d+)\/(\d+)$/.exec(s);
  return m ? `\\frac{${m[1]}}{${m[2]}}` : s;
}

export function mathStripString(input: string): string {
  let s = input.replace(/\n/g, "").replace(/\\!/g, "").replace(/\\\\/g, "\\");
  s = s.replace(/tfrac/g, "frac").replace(/dfrac/g, "frac");
  s = s.replace(/\\left/g, "").replace(/\\right/g, "");
  s = s.replace(/\^\{\\circ\}/g, "").replace(/\^\\circ/g, "");
  s = s.replace(/\\\$/g, "");
  const unit = s.indexOf("\\text{ ");
  if (unit >= 0) s = s.slice(0, unit);
  s = s.replace(/\\%/g, "").replace(/%/g, "");
  s = s.replace(/ \./g, " 0.").replace(/\{\./g, "{0.");
  if (s.length === 0) return s;
  if (s[0] === ".") s = "0" + s;
  const eq = s.split("=");
  if (eq.length === 2 && eq[0]!.length <= 2) s = eq[1]!;
  s = fixSqrt(s);
  s = s.replace(/ /g, "");
  s = fixFracs(s);
  if (s === "0.5") s = "\\frac{1}{2}";
  return fixSlash(s);
}

/** verl's math reward: 1 when the last box's content equals the gold after normalization. */
export function verlMathCorrect(response: string, gold: string): boolean {
  const boxed = lastBoxed(response);
  if (boxed === null) return false;
  return mathStripString(boxed) === mathStripString(gold);
}
