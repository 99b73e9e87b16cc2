// The Qwen2.5-Math evaluation's answer extraction, written from its documented behaviour (no
// code copied): the last \boxed{} answer; else what follows the last "the answer is"; else what
// follows the last "final answer is"; else the last number in the response (commas between
// digits dropped first, so "1,000" is one number). A trailing \text{...} after the answer
// (a unit: "5\text{ apples}") is dropped.
// Three departures from the protocol, each where a peer grader's test (Math-Verify's) asserts the
// verdict a reader would give and the protocol's reading is plainly not the answer: the phrase
// ends at the end of its sentence ("the final answer is 12,000,023. I hope it is correct."); a
// simple fraction is one number ("is 2/3", not 3); digits glued to a letter ("AZYUK2A") are no
// number; and when no number follows the last math span
// ($...$, \(...\), \[...\], $$...$$), that span is the answer ("Therefore $x \geq 5$ is the
// solution.", a matrix, "$(7, 6)$").
import { answerRegion, lastBoxedGroup } from "../extract.js";

export type QwenExtraction = "boxed" | "the-answer-is" | "final-answer-is" | "last-math" | "last-number";

export interface QwenAnswer {
  answer: string;
  via: QwenExtraction;
}

/** The answer phrase: up to the end of its line, without math delimiters or the closing period. */
function phraseAfter(region: string, phrase: RegExp): string | null {
  let last: RegExpExecArray | null = null;
  for (const m of region.matchAll(phrase)) last = m as RegExpExecArray;
  if (!last) return null;
  let s = region.slice(last.index + last[0].length).replace(/^[\s:：]+/, "");
  s = s.split("\n")[0]!.trim();
  // The end of the sentence: a period, then a space and a capital letter or a tag ("<|im_start|>").
  s = s.split(/\.\s+(?=[A-Z<])/)[0]!.trim();
  for (;;) {
    const before = s;
    s = s.replace(/^\$+|\$+$/g, "").replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "").trim();
    s = s.replace(/[.。]$/, "").replace(/\/$/, "").trim();
    if (s === before) break;
  }
  return s.length > 0 ? s : null;
}

/** "-3", ".5", "12.75": the Qwen number pattern (digits with at most one decimal point, optional minus); "2/3" is one number;
 * digits right after a letter are part of a word ("AZYUK2A", "CO2"), not a number. */
const NUMBER = /(?<![a-zA-Z\d.])(?:-?\d+\/\d+(?!\.?\d)|-?\d*\.?\d+)/g;

/** Math spans: $$...$$, \[...\], \(...\), $...$ (an escaped \$ inside is text). */
const MATH_SPAN = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$((?:\\\$|[^$])+?)\$/g;

/** The last math span's content when no digit follows it in the response, else null. */
function lastMathSpan(region: string): string | null {
  let last: RegExpExecArray | null = null;
  for (const m of region.matchAll(MATH_SPAN)) last = m as RegExpExecArray;
  if (!last || /\d/.test(region.slice(last.index + last[0].length))) return null;
  const inner = (last[1] ?? last[2] ?? last[3] ?? last[4] ?? "").trim();
  return inner.length > 0 ? inner : null;
}

function lastNumber(region: string): string | null {
  const text = region.replace(/(\d),(?=\d)/g, "$1");
  let last: string | null = null;
  for (const m of text.matchAll(NUMBER)) last = m[0];
  return last;
}

/** Drops a trailing \text{...} (a unit) when something is left before it. */
export function dropTrailingText(answer: string): string {
  const m = /\\(?:text|mbox|mathrm)\s*\{[^{}]*\}\s*$/.exec(answer);
  if (!m) return answer;
  const rest = answer.slice(0, m.index).trim();
  return rest.length > 0 && /[\d}]$/.test(rest) ? rest : answer;
}

/** The answer by the Qwen2.5-Math cascade, or null when there is none (no number at all, or an empty box). */
export function qwenMathAnswer(response: string): QwenAnswer | null {
  const region = answerRegion(response);
  const boxed = lastBoxedGroup(region);
  if (boxed !== null && boxed.length > 0) return { answer: dropTrailingText(boxed), via: "boxed" };
  // A box that is there but unclosed or empty: the protocol reads what follows the last one
  // ("\boxed{3" is 3; "\boxed{}" is no answer), never a phrase or number elsewhere.
  const at = region.lastIndexOf("\\boxed");
  if (at >= 0) {
    const rest = region.slice(at + "\\boxed".length).trim();
    const inner = (rest.startsWith("{") ? rest.slice(1).replace(/\}[\s\S]*$/, "") : rest.split("$")[0]!).trim();
    return inner.length > 0 ? { answer: dropTrailingText(inner), via: "boxed" } : null;
  }
  const theAnswer = phraseAfter(region, /the answer is/gi);
  if (theAnswer !== null) return { answer: dropTrailingText(theAnswer), via: "the-answer-is" };
  const finalAnswer = phraseAfter(region, /final answer is/gi);
  if (finalAnswer !== null) return { answer: dropTrailingText(finalAnswer), via: "final-answer-is" };
  const span = lastMathSpan(region);
  if (span !== null) return { answer: dropTrailingText(span), via: "last-math" };
  const number = lastNumber(region);
  return number === null ? null : { answer: number, via: "last-number" };
}
