// Other spellings of the same answer: a set-builder set is its condition
// ("\{x \mid x > 2\}" is "x > 2", so it meets an interval), a one-column or one-row matrix is a
// tuple (a vector written as a pmatrix), "all real numbers" and \mathbb{R} are (−∞, ∞), and a
// leading "\approx" (or "x \approx") is dropped.
import type { Answer } from "../read.js";

const BAR = /^((?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?)(?:\\mid|\||:)(.+)$/;

/** "\{x | x > 2\}" as the relation "x > 2"; null for anything else. */
export function setBuilderCondition(a: Answer): Answer | null {
  if (a.kind !== "set" || a.items.length !== 1) return null;
  const item = a.items[0]!;
  if (item.kind !== "relation" || item.terms[0]?.kind !== "expr") return null;
  const m = BAR.exec(item.terms[0].latex);
  if (!m) return null;
  return { ...item, terms: [{ kind: "expr", latex: m[2]!.trim() }, ...item.terms.slice(1)] };
}

/** A column or row vector as a tuple; null for other matrices. */
export function vectorAsTuple(a: Answer): Answer | null {
  if (a.kind !== "matrix" || a.rows.length === 0) return null;
  if (a.rows.every((r) => r.length === 1) && a.rows.length > 1) return { kind: "seq", open: "(", close: ")", items: a.rows.map((r) => r[0]!) };
  if (a.rows.length === 1 && a.rows[0]!.length > 1) return { kind: "seq", open: "(", close: ")", items: a.rows[0]! };
  return null;
}

const ALL_REALS_TEXT = /^(?:all\s*real\s*numbers|all\s*reals|the\s*set\s*of\s*all\s*real\s*numbers|\(-\\infty,\\infty\)|\\mathbb\{R\}|R)$/i;

/** "all real numbers", \mathbb{R} (normalized to "R") as the interval (−∞, ∞); null otherwise. */
export function allReals(a: Answer): Answer | null {
  const text = a.kind === "text" ? a.text : a.kind === "expr" ? a.latex : null;
  if (text === null || !ALL_REALS_TEXT.test(text.trim())) return null;
  return { kind: "seq", open: "(", close: ")", items: [{ kind: "expr", latex: "-\\infty" }, { kind: "expr", latex: "\\infty" }] };
}

/** A leading "\approx" or "x \approx" (a one-letter label, as in "x = 3"): "\approx 3.14" and "x\approx 3.14" as 3.14. */
const APPROX = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\s*)?\\approx(?![a-zA-Z])/;

export function withoutApprox(a: Answer): Answer {
  if (a.kind !== "expr") return a;
  const m = APPROX.exec(a.latex);
  return m && a.latex.length > m[0].length ? { kind: "expr", latex: a.latex.slice(m[0].length).trim() } : a;
}

/** A gold that is one choice letter (normalization turns "(C)" into "C"). */
export function isChoiceLetter(a: Answer): boolean {
  const s = a.kind === "expr" ? a.latex : a.kind === "text" ? a.text : "";
  return /^[A-E]$/.test(s);
}

/** "(A) 5", the letter with the choice's text after it, as "A"; null otherwise. */
export function choicePrefix(a: Answer): Answer | null {
  const s = a.kind === "expr" ? a.latex : a.kind === "text" ? a.text : null;
  const m = s === null ? null : /^\(([A-E])\)(?![a-zA-Z])/.exec(s.trim());
  return m ? { kind: "expr", latex: m[1]! } : null;
}

/** "infinity" in words as \infty (and "negative infinity" as -\infty); null otherwise. */
export function infinityWord(a: Answer): Answer | null {
  if (a.kind !== "text") return null;
  const t = a.text.trim().toLowerCase();
  if (/^\+?\s*infinity$/.test(t)) return { kind: "expr", latex: "\\infty" };
  if (/^(?:-\s*|negative\s*|minus\s*)infinity$/.test(t)) return { kind: "expr", latex: "-\\infty" };
  return null;
}

const NO_SOLUTION = /^(?:no\s*solutions?|none|(?:the\s*)?empty\s*set)$/i;

/** "no solution", "none", "the empty set": the empty set, when the other side is one. */
export function emptySetWords(a: Answer): Answer | null {
  return a.kind === "text" && NO_SOLUTION.test(a.text.trim()) ? { kind: "set", items: [] } : null;
}
