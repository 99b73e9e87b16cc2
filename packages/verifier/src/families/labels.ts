// Labeled answers: the value named by a label is the answer. "(a, b) = (2, 5)" is (2, 5),
// "S_1 : S_2 = 2 : 9" is 2 : 9, "x \in (1, 4]" is (1, 4]. A label must name unknowns only (a
// symbol, a tuple of symbols, a ratio of symbols) and have as many parts as its value.
import { readAnswer, type Answer } from "../read.js";

export const SYMBOL = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?(?:\([a-z]\))?$/;

const isSymbol = (a: Answer | undefined): boolean => a?.kind === "expr" && SYMBOL.test(a.latex);

/** The label's names, or null when `lhs` is not a label for `rhs`. */
export function labelNames(lhs: Answer, rhs: Answer): string[] | null {
  if (isSymbol(lhs)) return [(lhs as { latex: string }).latex];
  if (lhs.kind === "seq" && lhs.open !== "[" && lhs.items.every(isSymbol) && rhs.kind === "seq" && rhs.items.length === lhs.items.length) {
    return lhs.items.map((i) => (i as { latex: string }).latex);
  }
  if (lhs.kind === "expr" && rhs.kind === "expr") {
    const names = lhs.latex.split(":");
    if (names.length > 1 && names.every((n) => SYMBOL.test(n)) && rhs.latex.split(":").length === names.length) return names;
  }
  return null;
}

/** "label = value" with a label: its names and value; else null. */
export function labeled(a: Answer): { names: string[]; value: Answer } | null {
  if (a.kind !== "relation" || a.ops.length < 1 || !a.ops.every((op) => op === "=")) return null;
  const value = a.terms.at(-1)!;
  // "x = y = 5": every term before the value is a label of it
  const all = a.terms.slice(0, -1).map((t) => labelNames(t, value));
  if (all.some((n) => n === null)) return null;
  return { names: all[0]!, value };
}

const MEMBERSHIP = /^((?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?)\\in(?![a-zA-Z])(.+)$/;

/** "x \in S" read as S; null when `a` is not a membership. */
export function membershipValue(a: Answer): Answer | null {
  if (a.kind !== "expr") return null;
  const m = MEMBERSHIP.exec(a.latex);
  return m ? readAnswer(m[2]!) : null;
}
