// String-level cleanup of a LaTeX answer: everything that only changes how an answer is
// written, never what it means. Idempotent (a property test checks it).
import { matchBrace, replaceCommand } from "./latex.js";

const UNIT_WORDS = [
  "mm", "cm", "km", "m", "meters?", "metres?", "centimeters?", "millimeters?", "kilometers?",
  "inch(?:es)?", "in", "ft", "feet", "foot", "yards?", "yd", "miles?", "mi", "mph", "kph", "km/h", "m/s",
  "hours?", "hrs?", "h", "minutes?", "mins?", "seconds?", "secs?", "s", "days?", "weeks?", "months?", "years?",
  "kg", "g", "grams?", "kilograms?", "mg", "lbs?", "pounds?", "ounces?", "oz", "tons?",
  "liters?", "litres?", "l", "ml", "gallons?", "cups?",
  "degrees?", "deg", "radians?", "rad", "dollars?", "cents?", "euros?", "usd", "yuan", "units?",
  "square", "sq", "cubic", "cu", "pixels?", "points?", "pts?", "people", "persons?", "students?",
  "ways", "times", "percent", "kpc", "pc", "ly", "au", "k", "kelvin", "j", "joules?", "w", "watts?",
  "ev", "kev", "mev", "gev", "hz", "khz", "mhz", "ghz", "n", "newtons?", "pa", "atm", "mol", "v", "volts?", "a",
  "amperes?", "ohms?", "c", "erg", "ergs", "arcsec", "arcmin", "\\\\mu\\s*m", "nm", "angstroms?", "Å",
];
const UNIT_PHRASE = new RegExp(`^(?:(?:${UNIT_WORDS.join("|")})(?:\\s*(?:\\^\\{?-?\\d\\}?|[²³]))?[\\s./·*-]*)+$`, "i");
// Plain-text unit words stripped after a number; single letters are too ambiguous outside \text{}.
const TRAILING_UNIT = new RegExp(
  `(\\d|\\})\\s*(?:${UNIT_WORDS.filter((w) => w.replace(/[^a-z]/gi, "").length > 2 && !w.includes("\\")).join("|")})\\b(?:\\^\\{?\\d\\}?)?\\s*$`,
  "i",
);

const TEXT_COMMANDS = ["text", "textbf", "textit", "textrm", "textnormal", "textsf", "texttt", "mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mbox", "hbox", "emph", "boldsymbol", "bm", "mathbb", "mathcal", "operatorname"];

const SUPERSCRIPTS: Record<string, string> = { "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-" };

const SYMBOLS: [RegExp, string][] = [
  [/[−–—]/g, "-"],
  [/×/g, "\\times "],
  [/÷/g, "\\div "],
  [/·|⋅/g, "\\cdot "],
  [/≤|⩽/g, "\\le "],
  [/≥|⩾/g, "\\ge "],
  [/≠/g, "\\ne "],
  [/±/g, "\\pm "],
  [/∞/g, "\\infty "],
  [/π/g, "\\pi "],
  [/√/g, "\\sqrt"],
  [/∪/g, "\\cup "],
  [/∩/g, "\\cap "],
  [/∅/g, "\\emptyset "],
  [/°/g, "^\\circ"],
];

function unicodeToLatex(s: string): string {
  s = s.replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+/g, (m) => `^{${[...m].map((c) => SUPERSCRIPTS[c]).join("")}}`);
  s = s.normalize("NFKC");
  for (const [pattern, latex] of SYMBOLS) s = s.replace(pattern, latex);
  return s;
}

function stripDelimiters(s: string): string {
  s = s.trim();
  for (;;) {
    const before = s;
    s = s.replace(/^\$+|\$+$/g, "").trim();
    s = s.replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "").trim();
    s = s.replace(/[.。;]+$/, "").trim();
    if (s === before) return s;
  }
}

/** Unwraps \text-like groups; a group that only names a unit is dropped when a number precedes it. */
function unwrapText(s: string): string {
  for (const cmd of TEXT_COMMANDS) {
    let out = "";
    let rest = s;
    const needle = `\\${cmd}`;
    for (;;) {
      const at = rest.indexOf(needle);
      if (at < 0) break;
      let open = at + needle.length;
      if (/[a-zA-Z]/.test(rest[open] ?? "")) {
        out += rest.slice(0, open);
        rest = rest.slice(open);
        continue;
      }
      while (rest[open] === " ") open++;
      if (rest[open] !== "{") {
        out += rest.slice(0, open);
        rest = rest.slice(open);
        continue;
      }
      const end = matchBrace(rest, open);
      if (end < 0) break;
      const inner = rest.slice(open + 1, end - 1);
      const before = out + rest.slice(0, at);
      let after = rest.slice(end);
      const unitName = inner.replace(/[~\\ ]|\\,/g, " ").trim();
      if (/[\d}]\s*$/.test(before) && unitName.length > 0 && UNIT_PHRASE.test(unitName)) {
        after = after.replace(/^\s*\^\s*\{?-?\d\}?/, "");
        out = before;
      } else {
        const keepSpace = cmd.startsWith("text") || cmd === "mbox" || cmd === "hbox";
        out = before + (keepSpace ? ` ${inner} ` : inner);
      }
      rest = after;
    }
    s = out + rest;
  }
  return s;
}

function bracesForShortArgs(s: string): string {
  // \frac12 → \frac{1}{2}, \frac1{2} → \frac{1}{2}, \frac{1}2 → \frac{1}{2}; \sqrt3 → \sqrt{3}
  s = s.replace(/\\frac\s*(\d)\s*(\d)/g, "\\frac{$1}{$2}");
  s = s.replace(/\\frac\s*(\d|[a-zA-Z])\s*\{/g, "\\frac{$1}{");
  s = s.replace(/\\frac\s*(\{[^{}]*\})\s*([\da-zA-Z])/g, "\\frac$1{$2}");
  s = s.replace(/\\sqrt\s*(\d+|[a-zA-Z])/g, "\\sqrt{$1}");
  return s;
}

function removeSpacing(s: string): string {
  // ~ first: "\~:" must not turn into the spacing command "\:" only after this step
  s = s.replace(/~/g, " ");
  s = s.replace(/(\d)\s*\{,\}\s*(?=\d{3})/g, "$1");
  s = s.replace(/(\d)\\[,;:! ](?=\d{3}\b)/g, "$1");
  s = s.replace(/(?<!\\)\\(?:[,;:! >]|quad|qquad|enspace|thinspace|medspace|thickspace|hspace\*?\{[^}]*\}|displaystyle|textstyle|scriptstyle|nonumber|limits)/g, " ");
  return s;
}

function removeDecorations(s: string): string {
  s = s.replace(/\\[dt]frac/g, "\\frac");
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)\s*(\.|\\[{}|]|\\[lr]?[vV]ert|[()[\]|])/g, (_, d: string) => (d === "." ? "" : d));
  s = s.replace(/\\[lr]vert/g, "|").replace(/\\[lr]Vert/g, "\\|");
  s = s.replace(/\\(?:mathrm|operatorname)\s*\{\s*([a-zA-Z]+)\s*\}\s*(?=\()/g, "\\$1");
  s = s.replace(/\\(?:varnothing|O)\b/g, "\\emptyset");
  s = s.replace(/\\(?:geq|geqslant)\b/g, "\\ge").replace(/\\(?:leq|leqslant)\b/g, "\\le").replace(/\\neq\b/g, "\\ne");
  s = s.replace(/\\(?:ldots|cdots|dots)\b/g, "\\ldots");
  s = s.replace(/\\infin\b/g, "\\infty");
  return s;
}

function removeUnitsAndSigns(s: string): string {
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree/g, "");
  s = s.replace(/\\%|%|\\textpercent|\bpercent\b/gi, "");
  s = s.replace(/\\\$|\\textdollar|[$€£¥]|\\euro|\\pounds|\bUSD\b|\bRMB\b/g, "");
  for (let i = 0; i < 3; i++) s = s.replace(TRAILING_UNIT, "$1");
  return s;
}

// 7\frac{1}{2} -> (7+\frac{1}{2}) when the fraction is proper and the whole part does not follow
// a letter, digit, command, brace, dot or sub/superscript. A mixed number right after one just
// converted follows its ")" (7\frac{1}{2}7\frac{1}{2} -> both), so that applying this again
// changes nothing (normalization is idempotent).
// (?<!\d): a run of digits is tried from its start only; trying each of its suffixes made
// this quadratic in the run's length (a 20,000-digit gold took 1.2 s here).
function mixedNumbers(s: string): string {
  let lastEnd = -1;
  return s.replace(/(?<!\d)(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}/g, (whole: string, w: string, n: string, d: string, at: number) => {
    const prev = at === lastEnd ? ")" : at > 0 ? s[at - 1]! : "";
    if (/[\d\\^_{}.a-zA-Z]/.test(prev) || !(BigInt(n) < BigInt(d))) return whole;
    lastEnd = at + whole.length;
    return `(${w}+\\frac{${n}}{${d}})`;
  });
}

// .5 -> 0.5: a "." with a digit after it and none before gets a 0, scanning right to left so
// that chains settle in one pass ("..0" -> "0.0.0", not ".0.0"); after the spaces are gone, so
// ". 5" does not become ".5" first.
function leadingZeros(s: string): string {
  let out = "";
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s[i]!;
    out = c + out;
    if (c === "." && /\d/.test(out[1] ?? "") && !/\d/.test(s[i - 1] ?? "")) out = "0" + out;
  }
  return out;
}

function tidySpaces(s: string): string {
  s = s.replace(/\s+/g, " ").trim();
  // Spaces only matter after a command name ("\sin x"); keep one there, drop the rest.
  s = s.replace(/(\\[a-zA-Z]+) (?=[a-zA-Z])/g, "$1\u0000");
  s = s.replace(/(?<=[a-zA-Z]) (?=[a-zA-Z])/g, "\u0001");
  s = s.replace(/ /g, "").replace(/\u0000/g, " ").replace(/\u0001/g, " ");
  return s;
}

function choiceLetter(s: string): string {
  const m = /^\(?([A-E])\)$|^\(([A-E])\)?$/.exec(s);
  return m ? (m[1] ?? m[2]!) : s;
}

/**
 * Cleans a LaTeX answer to a canonical spelling. Idempotent: one step can make input for an
 * earlier one (dropping "^\\circ" joins digits that a "{,}" thousands separator then matches;
 * dropping "\\$" forms the spacing command "\\:"), so the steps are repeated until they change
 * nothing (at most 8 rounds; real answers settle in one).
 */
export function normalizeAnswer(input: string): string {
  let s = normalizeOnce(input);
  for (let i = 0; i < 8; i++) {
    const next = normalizeOnce(s);
    if (next === s) break;
    s = next;
  }
  return s;
}

function normalizeOnce(input: string): string {
  let s = unicodeToLatex(input);
  s = stripDelimiters(s);
  s = replaceCommand(s, "boxed", (x) => x);
  s = removeDecorations(s);
  s = removeSpacing(s);
  s = unwrapText(s);
  s = removeUnitsAndSigns(s);
  s = bracesForShortArgs(s);
  s = mixedNumbers(s);
  s = s.replace(/\+\s*\\infty/g, "\\infty");
  s = tidySpaces(s);
  s = leadingZeros(s);
  // delimiters and one outer brace pair, until neither is left ("{.}" -> "." -> "")
  for (;;) {
    const before = s;
    s = stripDelimiters(s).replace(/^\{([^{}]*)\}$/, "$1");
    if (s === before) break;
  }
  return choiceLetter(s);
}

/** Lowercased words only: how two text answers ("Monday", "\text{monday}") are compared. */
export function textKey(s: string): string {
  return s.toLowerCase().replace(/\\[a-z]+/g, "").replace(/[^\p{L}\p{N}]+/gu, "");
}
