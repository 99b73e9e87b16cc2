// Decides whether a predicted answer equals the gold one. Order of checks, cheapest and
// surest first: normalized string → structure → exact rationals → 6-decimal rounding (only
// when a side is written as a decimal) → symbolic simplify(a − b) = 0. No relative tolerance
// anywhere: 1/2004! ≠ 1/2006!, 14917 ≠ 14916.
import { numericValue, parseRaw, symbolicallyEqual, type MathJson } from "./engine.js";
import { exactValue } from "./exact.js";
import { dividesByZero, textDividesByZero } from "./families/divisionByZero.js";
import { allReals, choicePrefix, emptySetWords, infinityWord, isChoiceLetter, setBuilderCondition, vectorAsTuple, withoutApprox } from "./families/forms.js";
import { labeled, membershipValue, SYMBOL } from "./families/labels.js";
import { proportionality } from "./families/proportional.js";
import { closeWithPercent, PLAIN_NUMBER, relativelyClose } from "./families/tolerance.js";
import type { GraderName } from "./graders/names.js";
import { type Rejection, screenText, screenTree } from "./guard.js";
import { textKey } from "./normalize.js";
import { type Rational, equals, fromDecimal, mul, toFixed, TooLargeError, rat } from "./rational.js";
import type { Answer, RelOp } from "./read.js";

export interface EquivalenceOptions {
  /** "qwen-math" adds its numeric leniency (families/tolerance.ts); the default is strict. */
  grader?: GraderName;
  /** The answers as written, before normalization dropped "%": a side written as a percentage also reads as value/100. */
  written?: { gold: string; pred: string };
}

/** Set for the duration of one top-level equivalent() call (verification is synchronous). */
let lenient = false;
/** Which sides were written as percentages (50% is also 0.5), for the same duration. */
let percentSides = { gold: false, pred: false };
const PERCENT = /\\?%|\\textpercent|\bpercent\b/i;

export type Method = "string" | "text" | "structure" | "exact" | "numeric" | "symbolic";

export interface Verdict {
  equal: boolean;
  method?: Method;
}

/** The prediction was screened out before parsing (a hostile or absurd answer). */
export class RejectedAnswer extends Error {
  constructor(readonly why: Rejection) {
    super(`answer rejected: ${why}`);
    this.name = "RejectedAnswer";
  }
}

const NO: Verdict = { equal: false };
const DECIMAL = /\d\.\d|\d[eE][+-]?\d|^\.\d/;
const THOUSANDS_HEAD = /^-?\d{1,3}$/;
const THOUSANDS_GROUP = /^\d{3}(?:\.\d+)?$/;

// ---------- leaves ----------

interface Leaf {
  latex: string;
  tree: MathJson | null;
  value: Rational | null;
}

function readLeaf(latex: string, isPrediction: boolean): Leaf | null {
  const textProblem = screenText(latex);
  if (textProblem) {
    if (isPrediction) throw new RejectedAnswer(textProblem);
    return null;
  }
  const tree = parseRaw(latex);
  if (tree !== null) {
    const treeProblem = screenTree(tree);
    if (treeProblem) {
      if (isPrediction) throw new RejectedAnswer(treeProblem);
      return null;
    }
  }
  let value: Rational | null = null;
  try {
    value = tree === null ? null : exactValue(tree);
  } catch (err) {
    if (!(err instanceof TooLargeError)) throw err;
    if (isPrediction) throw new RejectedAnswer("huge-number");
    return null;
  }
  return { latex, tree, value };
}

/** Six decimals for |x| ≥ 1; six significant digits below, so tiny values never all round to 0. */
function roundKey(r: Rational): string {
  const absN = r.n < 0n ? -r.n : r.n;
  if (absN >= r.d || absN === 0n) return toFixed(r, 6);
  // First guess from the digit counts, then correct it by one step if needed.
  let shift = Math.max(0, r.d.toString().length - absN.toString().length);
  const scaledNumerator = (k: number) => absN * 10n ** BigInt(k);
  if (scaledNumerator(shift) < r.d) shift++;
  if (shift > 0 && scaledNumerator(shift - 1) >= r.d) shift--;
  const scaled = rat(r.n * 10n ** BigInt(shift), r.d);
  return `${toFixed(scaled, 5)}e-${shift}`;
}

function numericRational(leaf: Leaf): Rational | null {
  if (leaf.value) return leaf.value;
  if (leaf.tree === null) return null;
  const text = numericValue(leaf.latex);
  return text === null ? null : fromDecimal(text);
}

function leafEqual(gold: string, pred: string): Verdict {
  if (gold === pred) return textDividesByZero(gold) ? NO : { equal: true, method: "string" };
  const p = readLeaf(pred, true);
  const g = readLeaf(gold, false);
  if (!p || !g || p.tree === null || g.tree === null) return NO;
  // A division by zero has no value: it equals nothing (1/0 and -1/0 both simplify to ∞).
  if (dividesByZero(p.tree) || dividesByZero(g.tree)) return NO;
  if (g.value && p.value && equals(g.value, p.value)) return { equal: true, method: "exact" };
  if (lenient) {
    const gv = numericRational(g);
    const pv = numericRational(p);
    if (gv && pv) {
      const percent = PLAIN_NUMBER.test(gold) && PLAIN_NUMBER.test(pred);
      if (percent ? closeWithPercent(gv, pv) : relativelyClose(gv, pv)) return { equal: true, method: "numeric" };
    }
  }
  if (DECIMAL.test(gold) || DECIMAL.test(pred)) {
    const gv = numericRational(g);
    const pv = numericRational(p);
    if (gv && pv && roundKey(gv) === roundKey(pv)) return { equal: true, method: "numeric" };
  }
  if (g.value && p.value && (percentSides.gold || percentSides.pred)) {
    // "50\\%" is 50 once normalized; as written it is also 0.5
    const hundredth = rat(1n, 100n);
    if (percentSides.pred && equals(g.value, mul(p.value, hundredth))) return { equal: true, method: "exact" };
    if (percentSides.gold && equals(mul(g.value, hundredth), p.value)) return { equal: true, method: "exact" };
  }
  // Two different rationals: no simplification can make them equal.
  if (g.value && p.value) return NO;
  if (symbolicallyEqual(gold, pred)) return { equal: true, method: "symbolic" };
  // The same rational function, where the engine's simplify stops short ((x²−1)/(x−1) = x+1):
  // equal values at generic rational points, exactly (families/proportional.ts).
  const ratio = proportionality(g.tree, p.tree);
  return ratio !== null && ratio.n === 1n && ratio.d === 1n ? { equal: true, method: "exact" } : NO;
}

// ---------- structure ----------

/** "x = 5" read as 5; "x = y = 5" as 5; "(a, b) = (2, 5)" as (2, 5); "x \in (1, 4]" as (1, 4]. */
function assignedValue(a: Answer): Answer {
  return labeled(a)?.value ?? membershipValue(a) ?? a;
}

/** The names of a list of single-name assignments ("m = 3, n = 4"), or null. */
function listLabels(a: Answer): string[] | null {
  if (a.kind !== "seq" || a.open !== "") return null;
  const names = a.items.map((i) => {
    const l = labeled(i);
    return l && l.names.length === 1 ? l.names[0]! : null;
  });
  return names.every((n) => n !== null) ? (names as string[]) : null;
}

const distinct = (xs: readonly string[]) => new Set(xs).size === xs.length;

/**
 * Lists of named values. Distinct names are variables: "m = 3, n = 4" equals "n = 4, m = 3"
 * (matched by name) and, unlabeled, "3, 4" (in the gold's order), but not "m = 4, n = 3" or
 * "a = 3, b = 4". One repeated name ("x = 1, x = 2") is a solution set: order-free values.
 */
function labeledLists(gold: Answer, pred: Answer): Verdict | null {
  const gl = listLabels(gold);
  const pl = listLabels(pred);
  if (!gl || !distinct(gl) || gl.length < 2) return null;
  const gv = (gold as { items: Answer[] }).items.map(assignedValue);
  if (pl === null) {
    if (pred.kind !== "seq" || pred.open !== "" || pred.items.length !== gv.length) return null;
    return ordered(gv, pred.items);
  }
  if (!distinct(pl) || pl.length !== gl.length || pl.some((n) => !gl.includes(n))) return NO;
  const pv = (pred as { items: Answer[] }).items.map(assignedValue);
  return ordered(gv, gl.map((n) => pv[pl.indexOf(n)]!));
}

/** A union of finite sets is the set of all their elements: \{1\} \cup \{3, 5\} = \{1, 3, 5\}. */
function evaluatedUnion(a: Answer): Answer {
  if (a.kind !== "union" || !a.parts.every((p) => p.kind === "set")) return a;
  return { kind: "set", items: a.parts.flatMap((p) => (p as { items: Answer[] }).items) };
}

/** "x < 1 or x > 2" (a list of one-variable inequalities) as the union of their intervals. */
function unionOfInequalities(a: Answer): Answer | null {
  if (a.kind !== "seq" || a.open !== "" || a.items.length < 2) return null;
  const parts = a.items.map(intervalOf);
  return parts.every((p) => p !== null) ? { kind: "union", parts: parts as Answer[] } : null;
}

function thousandsNumber(a: Answer): Answer | null {
  if (a.kind !== "seq" || a.open !== "" || a.items.length < 2) return null;
  const parts = a.items.map((i) => (i.kind === "expr" ? i.latex : null));
  if (parts.some((x) => x === null)) return null;
  const [head, ...groups] = parts as string[];
  if (!THOUSANDS_HEAD.test(head!) || !groups.every((g, i) => THOUSANDS_GROUP.test(g) && (i === groups.length - 1 || !g.includes(".")))) return null;
  return { kind: "expr", latex: parts.join("") };
}

const FLIP: Record<RelOp, RelOp> = { "=": "=", "\\ne": "\\ne", "<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le" };

/** "x > 3" → (3, ∞); "-1 \le x < 2" → [-1, 2). Null when it is not one variable against bounds. */
function intervalOf(a: Answer): Answer | null {
  if (a.kind !== "relation") return null;
  const isVar = (t: Answer | undefined) => t?.kind === "expr" && SYMBOL.test(t.latex);
  const inf = (sign: string): Answer => ({ kind: "expr", latex: `${sign}\\infty` });
  const open = (op: RelOp) => (op === "<" || op === ">" ? "(" : "[");
  const close = (op: RelOp) => (op === "<" || op === ">" ? ")" : "]");
  if (a.ops.some((op) => op === "=" || op === "\\ne")) return null;
  if (a.terms.length === 2) {
    let [l, r] = a.terms as [Answer, Answer];
    let op = a.ops[0]!;
    if (!isVar(l) && isVar(r)) [l, r, op] = [r, l, FLIP[op]];
    if (!isVar(l)) return null;
    return op === ">" || op === "\\ge"
      ? { kind: "seq", open: open(op), close: ")", items: [r, inf("")] }
      : { kind: "seq", open: "(", close: close(op), items: [inf("-"), r] };
  }
  if (a.terms.length === 3 && isVar(a.terms[1])) {
    let [lo, , hi] = a.terms as [Answer, Answer, Answer];
    let [op1, op2] = a.ops as [RelOp, RelOp];
    if ((op1 === ">" || op1 === "\\ge") && (op2 === ">" || op2 === "\\ge")) [lo, hi, op1, op2] = [hi, lo, FLIP[op2], FLIP[op1]];
    if ((op1 === "<" || op1 === "\\le") && (op2 === "<" || op2 === "\\le")) {
      return { kind: "seq", open: open(op1), close: close(op2), items: [lo, hi] };
    }
  }
  return null;
}

function all(pairs: [Answer, Answer][]): Verdict {
  for (const [g, p] of pairs) if (!compare(g, p).equal) return NO;
  return { equal: true, method: "structure" };
}

function ordered(gold: Answer[], pred: Answer[]): Verdict {
  if (gold.length !== pred.length) return NO;
  return all(gold.map((g, i) => [g, pred[i]!]));
}

function unordered(gold: Answer[], pred: Answer[]): Verdict {
  if (gold.length !== pred.length) {
    // Repeated elements do not change a set: {1, 1, 2} = {1, 2}.
    return dedupEqual(gold, pred);
  }
  const used = new Set<number>();
  for (const g of gold) {
    const k = pred.findIndex((p, i) => !used.has(i) && compare(g, p).equal);
    if (k < 0) return NO;
    used.add(k);
  }
  return { equal: true, method: "structure" };
}

function dedupEqual(gold: Answer[], pred: Answer[]): Verdict {
  const covers = (xs: Answer[], ys: Answer[]) => xs.every((x) => ys.some((y) => compare(x, y).equal));
  return covers(gold, pred) && covers(pred, gold) ? { equal: true, method: "structure" } : NO;
}

function relationEqual(g: Extract<Answer, { kind: "relation" }>, p: Extract<Answer, { kind: "relation" }>): Verdict {
  if (g.terms.length !== p.terms.length) return NO;
  const sameOps = g.ops.every((op, i) => op === p.ops[i]);
  if (sameOps && ordered(g.terms, p.terms).equal) return { equal: true, method: "structure" };
  const reversedOps = g.ops.every((op, i) => FLIP[op] === p.ops[p.ops.length - 1 - i]);
  if (reversedOps && ordered(g.terms, [...p.terms].reverse()).equal) return { equal: true, method: "structure" };
  // An equation equals another when their sides' differences agree up to sign: y = 2x+1 ⇔ 2x - y + 1 = 0.
  if (g.ops.length === 1 && (g.ops[0] === "=" || g.ops[0] === "\\ne") && sameOps) {
    const [gl, gr] = g.terms as [Answer, Answer];
    const [pl, pr] = p.terms as [Answer, Answer];
    if (gl.kind === "expr" && gr.kind === "expr" && pl.kind === "expr" && pr.kind === "expr") {
      // ... or up to any nonzero constant factor: x²/4 + y²/3 = 1 ⇔ 3x² + 4y² = 12
      const c = differenceRatio(gl.latex, gr.latex, pl.latex, pr.latex);
      if (c !== null) return { equal: true, method: "exact" };
      const gd = `(${gl.latex})-(${gr.latex})`;
      if (leafEqual(gd, `(${pl.latex})-(${pr.latex})`).equal || leafEqual(gd, `(${pr.latex})-(${pl.latex})`).equal) {
        return { equal: true, method: "symbolic" };
      }
    }
  }
  // One inequality against another: the same up to a positive factor, or a negative factor
  // with the direction flipped: -2x < 6 ⇔ x > -3 (but not x < -3).
  if (g.ops.length === 1 && p.ops.length === 1 && g.ops[0] !== "=" && g.ops[0] !== "\\ne") {
    const [gl, gr] = g.terms as [Answer, Answer];
    const [pl, pr] = p.terms as [Answer, Answer];
    if (gl.kind === "expr" && gr.kind === "expr" && pl.kind === "expr" && pr.kind === "expr") {
      const c = differenceRatio(gl.latex, gr.latex, pl.latex, pr.latex);
      if (c !== null && (c.n > 0n ? p.ops[0] === g.ops[0] : p.ops[0] === FLIP[g.ops[0]!])) return { equal: true, method: "exact" };
    }
  }
  return NO;
}

/** c with (gl − gr) = c·(pl − pr) exactly (families/proportional.ts), or null. Screens the prediction. */
function differenceRatio(gl: string, gr: string, pl: string, pr: string): Rational | null {
  const g = readLeaf(`(${gl})-(${gr})`, false);
  const p = readLeaf(`(${pl})-(${pr})`, true);
  if (!g || !p || g.tree === null || p.tree === null) return null;
  if (dividesByZero(g.tree) || dividesByZero(p.tree)) return null;
  return proportionality(g.tree, p.tree);
}

/** Structural equivalence; the gold decides how the prediction is read. Throws RejectedAnswer. */
export function equivalent(gold: Answer, pred: Answer, options: EquivalenceOptions = {}): Verdict {
  const outer = { lenient, percentSides };
  lenient = options.grader === "qwen-math";
  percentSides = { gold: PERCENT.test(options.written?.gold ?? ""), pred: PERCENT.test(options.written?.pred ?? "") };
  try {
    return compare(gold, pred);
  } finally {
    ({ lenient, percentSides } = outer);
  }
}

function compare(goldIn: Answer, predIn: Answer): Verdict {
  let gold = evaluatedUnion(membershipValue(goldIn) ?? setBuilderCondition(goldIn) ?? withoutApprox(goldIn));
  let pred = evaluatedUnion(membershipValue(predIn) ?? setBuilderCondition(predIn) ?? withoutApprox(predIn));
  // spellings that only make sense against a bracketed answer
  if (gold.kind === "seq" && gold.open === "(") pred = vectorAsTuple(pred) ?? allReals(pred) ?? pred;
  if (pred.kind === "seq" && pred.open === "(") gold = vectorAsTuple(gold) ?? allReals(gold) ?? gold;
  if (isChoiceLetter(gold)) pred = choicePrefix(pred) ?? pred;
  gold = infinityWord(gold) ?? gold;
  pred = infinityWord(pred) ?? pred;
  if (gold.kind === "set" && gold.items.length === 0) pred = emptySetWords(pred) ?? pred;
  if (pred.kind === "set" && pred.items.length === 0) gold = emptySetWords(gold) ?? gold;
  const byLabel = labeledLists(gold, pred);
  if (byLabel !== null) return byLabel;
  if (gold.kind !== "relation") pred = assignedValue(pred);
  if (pred.kind !== "relation") gold = assignedValue(gold);
  if (gold.kind === "union") pred = unionOfInequalities(pred) ?? pred;
  if (pred.kind === "union") gold = unionOfInequalities(gold) ?? gold;
  if (gold.kind === "seq" && pred.kind === "seq" && gold.open === "" && pred.open === "") {
    gold = { ...gold, items: gold.items.map(assignedValue) };
    pred = { ...pred, items: pred.items.map(assignedValue) };
  }
  if (gold.kind === "expr") pred = thousandsNumber(pred) ?? pred;
  if (pred.kind === "expr") gold = thousandsNumber(gold) ?? gold;
  if (gold.kind === "set" && gold.items.length === 1 && pred.kind !== "set") gold = gold.items[0]!;
  if (pred.kind === "set" && pred.items.length === 1 && gold.kind !== "set") pred = pred.items[0]!;
  if (gold.kind === "seq" && pred.kind === "relation") pred = intervalOf(pred) ?? pred;
  if (pred.kind === "seq" && gold.kind === "relation") gold = intervalOf(gold) ?? gold;

  if (gold.kind === "text" || pred.kind === "text") {
    const g = gold.kind === "text" ? gold.text : gold.kind === "expr" ? gold.latex : null;
    const p = pred.kind === "text" ? pred.text : pred.kind === "expr" ? pred.latex : null;
    if (g === null || p === null) return NO;
    return textKey(g) === textKey(p) && textKey(g) !== "" ? { equal: true, method: "text" } : NO;
  }
  if (gold.kind === "expr" && pred.kind === "expr") return leafEqual(gold.latex, pred.latex);

  if (gold.kind === "seq" && pred.kind === "seq") {
    if (gold.open === "" && pred.open === "") return unordered(gold.items, pred.items);
    if (gold.open === "" || pred.open === "") {
      // A bare list only matches a parenthesized tuple, never an interval.
      const bracketed = gold.open === "" ? pred : gold;
      if (bracketed.open !== "(" || bracketed.close !== ")") return NO;
      return ordered(gold.items, pred.items);
    }
    if (gold.open !== pred.open || gold.close !== pred.close) return NO;
    return ordered(gold.items, pred.items);
  }
  if (gold.kind === "set" && (pred.kind === "set" || (pred.kind === "seq" && pred.open === ""))) return unordered(gold.items, pred.items);
  if (pred.kind === "set" && gold.kind === "seq" && gold.open === "") return unordered(gold.items, pred.items);
  if (gold.kind === "union" && pred.kind === "union") return unordered(gold.parts, pred.parts);
  if (gold.kind === "matrix" && pred.kind === "matrix") {
    const shapeDiffers = gold.rows.length !== pred.rows.length || gold.rows.some((row, i) => row.length !== pred.rows[i]!.length);
    if (shapeDiffers) return NO;
    return all(gold.rows.flatMap((row, i) => row.map((g, j): [Answer, Answer] => [g, pred.rows[i]![j]!])));
  }
  if (gold.kind === "relation" && pred.kind === "relation") return relationEqual(gold, pred);
  return NO;
}
