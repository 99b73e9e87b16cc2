// Finds the model's final answer in a response.
import { matchBrace } from "./latex.js";
import { qwenMathAnswer } from "./graders/qwenMathExtract.js";
import type { GraderName } from "./graders/names.js";

export type Fallback = "final-answer" | "answer-label";

export interface ExtractOptions {
  /**
   * How answers are read and compared (graders/names.ts): "boxed" (default, the training
   * reward) or "qwen-math" (the Qwen2.5-Math evaluation protocol, `rlvr eval`'s default).
   */
  grader?: GraderName;
  /**
   * Phrases tried, in order, when the response has no \boxed{}. Empty by default: the RL
   * default is boxed-only, so mentioning a number somewhere earns nothing.
   */
  fallbacks?: readonly Fallback[];
}

interface Box {
  start: number;
  end: number;
  content: string;
}

const BOX_COMMANDS = /\\(?:boxed|fbox)(?![a-zA-Z])/g;

/** The part of a response that holds the answer: after the last </think> when there is one. */
export function answerRegion(response: string): string {
  const close = response.lastIndexOf("</think>");
  return close >= 0 ? response.slice(close + "</think>".length) : response;
}

/** Only the last boxes can form the answer; bounding them keeps brace matching linear. */
const MAX_BOXES = 50;

function findBoxes(text: string): Box[] {
  const boxes: Box[] = [];
  for (const m of [...text.matchAll(BOX_COMMANDS)].slice(-MAX_BOXES)) {
    let i = m.index + m[0].length;
    while (text[i] === " ") i++;
    if (text[i] === "{") {
      const end = matchBrace(text, i);
      if (end < 0) continue;
      boxes.push({ start: m.index, end, content: text.slice(i + 1, end - 1).trim() });
    } else {
      // "\boxed 5": the argument is the next token
      const token = /^[^\s$.,;]+/.exec(text.slice(i));
      if (token) boxes.push({ start: m.index, end: i + token[0].length, content: token[0] });
    }
  }
  // Boxes nested in an outer box belong to it.
  return boxes.filter((b) => !boxes.some((o) => o !== b && o.start < b.start && o.end >= b.end));
}

// What may stand between two boxes that together form one answer: separators and spacing only
// ("\boxed{(1,2)}\n\boxed{(3,4)}" is one list), never words other than the joining ones.
const JOINER = /^(?:\s|\$|\\[,;!: ]|\\quad|\\qquad|,|;|&|\\text\{\s*(?:and|or|,)\s*\}|\band\b|\bor\b|\bet\b|\bund\b|\by\b|和|或|、|，)*$/i;

export function lastBoxedGroup(text: string): string | null {
  const boxes = findBoxes(text);
  const last = boxes.at(-1);
  if (!last) return null;
  const group = [last];
  for (let k = boxes.length - 2; k >= 0; k--) {
    const box = boxes[k]!;
    const gap = text.slice(box.end, group[0]!.start);
    if (!JOINER.test(gap)) break;
    group.unshift(box);
  }
  const unique = [...new Set(group.map((b) => b.content))];
  return unique.join(", ");
}

const FINAL_ANSWER_PHRASES = [
  /final answer is[:\s]*(.+)/gi,
  /the answer is[:\s]*(.+)/gi,
  /答案是[:：\s]*(.+)/g,
  /la réponse (?:finale )?est[:\s]*(.+)/gi,
  /die (?:endgültige )?antwort ist[:\s]*(.+)/gi,
  /la respuesta (?:final )?es[:\s]*(.+)/gi,
];
const ANSWER_LABELS = [/(?:^|\n)\s*\**(?:final answer|answer|答案|réponse|antwort|respuesta)\**\s*[:：]\s*(.+)/gi];

export function lastPhraseMatch(text: string, patterns: readonly RegExp[]): string | null {
  let best: { at: number; value: string } | null = null;
  for (const p of patterns) {
    for (const m of text.matchAll(p)) {
      if (!best || m.index >= best.at) best = { at: m.index, value: m[1] ?? "" };
    }
  }
  return best ? cleanPhraseAnswer(best.value) : null;
}

function cleanPhraseAnswer(raw: string): string | null {
  let s = raw.split("\n")[0]!.trim();
  // Strip math delimiters and the sentence's closing period.
  s = s.replace(/^\$+|\$+$/g, "").replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "");
  s = s.replace(/\$+\s*[.。]?$/, "").replace(/[.。]\s*$/, "").trim();
  s = s.replace(/^\$+|\$+$/g, "").trim();
  return s.length > 0 ? s : null;
}

/** The answer text of a response, or null when it gives none in an accepted form. */
export function extractAnswer(response: string, options: ExtractOptions = {}): string | null {
  if (options.grader === "qwen-math") return qwenMathAnswer(response)?.answer ?? null;
  const region = answerRegion(response);
  const boxed = lastBoxedGroup(region);
  if (boxed !== null && boxed.length > 0) return boxed;
  for (const fallback of options.fallbacks ?? []) {
    const found =
      fallback === "final-answer" ? lastPhraseMatch(region, FINAL_ANSWER_PHRASES) : lastPhraseMatch(region, ANSWER_LABELS);
    if (found !== null) return found;
  }
  return null;
}
