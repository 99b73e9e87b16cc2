// Self-reflection word counts and response length statistics (spec section 8).

/** The words the paper names (spec section 8): "rethink", "recheck", "recalculate". */
export const PAPER_REFLECTION_WORDS = ["rethink", "recheck", "recalculate"] as const;

/**
 * The default list: the paper's three plus verbs and phrases of the same kind, an explicit
 * re-check of one's own work: "re-evaluate"/"reevaluate", "re-examine"/"reexamine",
 * "double-check"/"double check", "verify". Left out on purpose: "wait", "however",
 * "alternatively", "but": they mark reflection in some studies, but they are common in plain
 * mathematical prose ("however, x > 0"), so counting them measures style more than
 * self-checking. The counts are per word, so the paper's three can always be summed alone.
 */
export const DEFAULT_REFLECTION_WORDS: readonly string[] = [
  ...PAPER_REFLECTION_WORDS,
  "re-evaluate",
  "reevaluate",
  "re-examine",
  "reexamine",
  "double-check",
  "double check",
  "verify",
];

export interface ReflectionOptions {
  /** The words or phrases to count (default DEFAULT_REFLECTION_WORDS). */
  words?: readonly string[];
  /**
   * Also count inflected forms: the word followed by s, es, d, ed or ing ("rechecking",
   * "recalculated"), a final e dropped before ing ("recalculating"), a final consonant + y
   * as ied/ies ("verified"). Off by default: whole words only.
   */
  inflections?: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * One case-insensitive, whole-word matcher per word. Letters, digits, "_" and "-" count as
 * word characters, so "verify" is not found in "re-verify" nor "check" in "recheck"; the
 * space in a phrase matches any run of white space.
 */
export function reflectionMatchers(options: ReflectionOptions = {}): Map<string, RegExp> {
  const words = options.words ?? DEFAULT_REFLECTION_WORDS;
  const out = new Map<string, RegExp>();
  for (const word of words) {
    const w = word.trim();
    if (w === "") throw new Error("reflection words must not be empty");
    const body = w.split(/\s+/).map(escapeRegExp).join("\\s+");
    const forms = [body];
    if (options.inflections) {
      forms[0] = `${body}(?:s|es|d|ed|ing)?`;
      if (/e$/i.test(w)) forms.push(`${body.slice(0, -1)}ing`);
      if (/[^aeiou]y$/i.test(w)) forms.push(`${body.slice(0, -1)}(?:ied|ies)`);
    }
    out.set(w.toLowerCase(), new RegExp(`(?<![\\p{L}\\p{N}_-])(?:${forms.join("|")})(?![\\p{L}\\p{N}_-])`, "giu"));
  }
  return out;
}

/** Occurrences of each word in one text. */
export function countReflectionWords(text: string, options: ReflectionOptions = {}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [word, re] of reflectionMatchers(options)) counts[word] = (text.match(re) ?? []).length;
  return counts;
}

export interface ReflectionStats {
  /** Occurrences of each word over all responses (the metrics record's `reflection`). */
  counts: Record<string, number>;
  /** Sum of the counts. */
  total: number;
  /** Responses with at least one reflection word. */
  responsesWithReflection: number;
  responses: number;
}

/** Reflection-word statistics over a step's responses. */
export function reflectionStats(responses: readonly string[], options: ReflectionOptions = {}): ReflectionStats {
  const matchers = reflectionMatchers(options);
  const counts: Record<string, number> = Object.fromEntries([...matchers.keys()].map((w) => [w, 0]));
  let responsesWithReflection = 0;
  for (const text of responses) {
    let any = false;
    for (const [word, re] of matchers) {
      const n = (text.match(re) ?? []).length;
      counts[word]! += n;
      if (n > 0) any = true;
    }
    if (any) responsesWithReflection++;
  }
  const total = Object.values(counts).reduce((s, n) => s + n, 0);
  return { counts, total, responsesWithReflection, responses: responses.length };
}

export interface LengthStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  median: number;
  p90: number;
  max: number;
  /** Share of responses at or above `cap` (truncated at the max response length); 0 without a cap. */
  clippedFraction: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Statistics of response lengths (tokens, or any unit the caller uses); zeros for none. */
export function responseLengthStats(lengths: readonly number[], cap?: number): LengthStats {
  if (lengths.length === 0) return { count: 0, mean: 0, std: 0, min: 0, median: 0, p90: 0, max: 0, clippedFraction: 0 };
  const sorted = [...lengths].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  const std = Math.sqrt(sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / sorted.length);
  const clipped = cap === undefined ? 0 : sorted.filter((x) => x >= cap).length / sorted.length;
  return {
    count: sorted.length,
    mean,
    std,
    min: sorted[0]!,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    max: sorted.at(-1)!,
    clippedFraction: clipped,
  };
}
