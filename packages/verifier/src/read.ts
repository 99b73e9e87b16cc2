// Reads a normalized answer into its structure: sets, intervals, tuples, matrices,
// relations, plain expressions and text.
import { joinWordsToCommas } from "./families/joined.js";
import { matchBrace, splitTopLevel } from "./latex.js";

export type Open = "(" | "[" | "";
export type Close = ")" | "]" | "";

export type Answer =
  | { kind: "expr"; latex: string }
  | { kind: "text"; text: string }
  /** A tuple, an interval or (open === "") a bare comma-separated list. */
  | { kind: "seq"; open: Open; close: Close; items: Answer[] }
  | { kind: "set"; items: Answer[] }
  | { kind: "union"; parts: Answer[] }
  | { kind: "matrix"; rows: Answer[][] }
  /** terms[0] ops[0] terms[1] ops[1] terms[2]...; ops are =, <, >, \le, \ge, \ne. */
  | { kind: "relation"; ops: RelOp[]; terms: Answer[] };

export type RelOp = "=" | "<" | ">" | "\\le" | "\\ge" | "\\ne";

const RELATIONS: [RegExp, RelOp][] = [
  [/^\\(?:le|leq|leqslant)(?![a-zA-Z])/, "\\le"],
  [/^\\(?:ge|geq|geqslant)(?![a-zA-Z])/, "\\ge"],
  [/^\\(?:ne|neq)(?![a-zA-Z])/, "\\ne"],
  [/^\\lt(?![a-zA-Z])/, "<"],
  [/^\\gt(?![a-zA-Z])/, ">"],
  [/^<=/, "\\le"],
  [/^>=/, "\\ge"],
  [/^!=/, "\\ne"],
  [/^=/, "="],
  [/^</, "<"],
  [/^>/, ">"],
];

const MATRIX = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/;

// Words that are not math: "no solution", "Monday", "\text{even}". Function names are math.
const MATH_WORDS = /^(?:sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|sinh|cosh|tanh|log|ln|lg|exp|sqrt|frac|pi|infty|cdot|times|div|pm|mp|mod|gcd|lcm|max|min|det|lim|sum|int|binom|left|right|circ|emptyset|cup|cap|in|le|ge|lt|gt|ne|neq|leq|geq|ldots|dots|alpha|beta|gamma|delta|theta|lambda|mu|sigma|omega|phi|varphi|rho|tau|epsilon|varepsilon|mathrm|text|begin|end|pmatrix|bmatrix|matrix|vmatrix|array|overline|hat|vec|bar|operatorname|sqrt|dfrac|tfrac|cfrac|arc|deg|sgn|floor|ceil|lfloor|rfloor|lceil|rceil|quad|qquad|mathbf|boxed|to|rightarrow|Rightarrow|implies|iff|land|lor|neg|forall|exists|mid|partial|nabla|prime|cot|arccot|ldots)$/i;

export function isTextual(s: string): boolean {
  const words = s.match(/\\?[a-zA-Z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]{3,}|[\u4e00-\u9fff\u3040-\u30ff]+/g) ?? [];
  return words.some((w) => !w.startsWith("\\") && !MATH_WORDS.test(w));
}

function wholeGroup(s: string): { open: string; close: string; inner: string } | null {
  if (s.startsWith("\\{") && s.endsWith("\\}")) {
    // the first \{ must close at the end
    let depth = 0;
    for (let i = 0; i < s.length; i++) {
      if (s.startsWith("\\{", i)) depth++, i++;
      else if (s.startsWith("\\}", i)) {
        depth--;
        i++;
        if (depth === 0 && i !== s.length - 1) return null;
      }
    }
    return { open: "{", close: "}", inner: s.slice(2, -2) };
  }
  const open = s[0];
  const close = s.at(-1);
  if ((open !== "(" && open !== "[") || (close !== ")" && close !== "]")) return null;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0 && i !== s.length - 1) return null;
    }
  }
  return { open, close, inner: s.slice(1, -1) };
}

function splitRelations(s: string): { ops: RelOp[]; terms: string[] } {
  const ops: RelOp[] = [];
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth !== 0) continue;
    for (const [pattern, op] of RELATIONS) {
      const m = pattern.exec(s.slice(i));
      if (m) {
        terms.push(s.slice(start, i).trim());
        ops.push(op);
        i += m[0].length - 1;
        start = i + 1;
        break;
      }
    }
    if (c === "\\" && start !== i + 1) {
      // skip a command name so "\left" is not read as "\le" + "ft"
      const name = /^\\[a-zA-Z]+/.exec(s.slice(i));
      if (name) i += name[0].length - 1;
    }
  }
  terms.push(s.slice(start).trim());
  return { ops, terms };
}

function readMatrix(body: string): Answer {
  const rows = body
    .split(/\\\\/)
    .map((r) => r.trim())
    .filter((r) => r.length > 0)
    .map((r) => r.split("&").map((cell) => readAnswer(cell.trim())));
  return { kind: "matrix", rows };
}

function expandPlusMinus(s: string): Answer | null {
  const m = /\\(pm|mp)(?![a-zA-Z])/.exec(s);
  if (!m) return null;
  const before = s.slice(0, m.index);
  const after = s.slice(m.index + m[0].length);
  const first = m[1] === "pm" ? "+" : "-";
  const second = m[1] === "pm" ? "-" : "+";
  return {
    kind: "set",
    items: [readAnswer(`${before}${first}${after}`), readAnswer(`${before}${second}${after}`)],
  };
}

/** Reads a normalized answer. Never throws. */
export function readAnswer(s: string): Answer {
  const matrix = MATRIX.exec(s);
  if (matrix) return readMatrix(matrix[2]!);
  // One matrix in brackets or parentheses ("\left[\begin{array}{cc}...\end{array}\right]"): the matrix.
  const bracketed = /^[([]\s*(\\begin\{[\s\S]*\})\s*[)\]]$/.exec(s);
  if (bracketed && bracketed[1]!.lastIndexOf("\\begin{") === 0) {
    const inner = MATRIX.exec(bracketed[1]!);
    if (inner) return readMatrix(inner[2]!);
  }

  // "4 or -1", "x = 1 and x = 2": a list, when no part is a phrase
  const joined = joinWordsToCommas(s);
  if (joined !== null) {
    const parts = splitTopLevel(joined, ",;");
    if (parts.length > 1 && !parts.some(isTextual)) return { kind: "seq", open: "", close: "", items: parts.map(readAnswer) };
  }

  const unionParts = s.split(/\\cup(?![a-zA-Z])/);
  if (unionParts.length > 1 && unionParts.every((p) => wholeGroup(p.trim()))) {
    return { kind: "union", parts: unionParts.map((p) => readAnswer(p.trim())) };
  }

  const listed = splitTopLevel(s, ",;");
  if (listed.length > 1) return { kind: "seq", open: "", close: "", items: listed.map(readAnswer) };

  const group = wholeGroup(s);
  if (group) {
    const items = splitTopLevel(group.inner, ",;").filter((x, i, all) => x.length > 0 || all.length === 1);
    if (group.open === "{") {
      if (items.length === 1 && items[0] === "") return { kind: "set", items: [] };
      return { kind: "set", items: items.map(readAnswer) };
    }
    if (items.length > 1) {
      return { kind: "seq", open: group.open as Open, close: group.close as Close, items: items.map(readAnswer) };
    }
    if (group.open === "(" && group.close === ")") return readAnswer(group.inner.trim());
  }
  if (s === "\\emptyset") return { kind: "set", items: [] };

  const { ops, terms } = splitRelations(s);
  if (ops.length > 0 && terms.every((t) => t.length > 0)) {
    return { kind: "relation", ops, terms: terms.map(readAnswer) };
  }

  const pm = expandPlusMinus(s);
  if (pm) return pm;

  if (isTextual(s)) return { kind: "text", text: s };
  return { kind: "expr", latex: s };
}
