// Choosing the training example(s): historical variance score (spec section 6) or random.
import { compareFractions, exactPopulationVariance, fractionSqrt, type Fraction } from "./exactVariance.js";
import { DataError } from "./files.js";
import { readRegularFile } from "./readInput.js";

/** Per-example training-accuracy history: example index (as a string) -> accuracy per epoch. */
export type HistoryInput = ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>;

export interface RankedExample {
  /** The example's extra_info.index. */
  index: number;
  /** Its historical variance score (the population std of its accuracy history). */
  score: number;
}

/**
 * Population standard deviation (divides by the length); 0 for an empty list. Computed from the
 * exact variance (exactVariance.ts), so histories with equal variance get bit-identical scores.
 */
export function populationStd(values: readonly number[]): number {
  return fractionSqrt(exactPopulationVariance(values));
}

function entries(history: HistoryInput): [string, readonly number[]][] {
  return history instanceof Map ? [...history.entries()] : Object.entries(history as Record<string, readonly number[]>);
}

function indexOf(key: string): number {
  const index = Number(key);
  if (!/^\d+$/.test(key) || !Number.isSafeInteger(index)) throw new DataError(`history key "${key}" is not an example index`);
  return index;
}

/**
 * Ranks examples by historical variance score, descending, comparing the exact (rational)
 * variances; exact ties keep the history's key order. Pass the Map from readAccuracyHistory to
 * keep the *file's* order: a plain object enumerates integer-like keys in numeric order,
 * whatever the file said.
 */
export function historicalVarianceScores(history: HistoryInput): RankedExample[] {
  const scored = entries(history).map(([key, values], order) => {
    const variance: Fraction = exactPopulationVariance(values);
    return { index: indexOf(key), score: fractionSqrt(variance), variance, order };
  });
  scored.sort((a, b) => compareFractions(b.variance, a.variance) || a.order - b.order);
  return scored.map(({ index, score }) => ({ index, score }));
}

/** A small seeded generator (mulberry32): same seed, same sequence, on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The "random" baseline: the examples in a seeded random order (Fisher-Yates). Each keeps
 * its historical variance score, for reference only.
 */
export function randomRanking(history: HistoryInput, seed: number): RankedExample[] {
  const ranked = entries(history).map(([key, values]) => ({ index: indexOf(key), score: populationStd(values) }));
  const rand = seededRandom(seed);
  for (let i = ranked.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ranked[i], ranked[j]] = [ranked[j]!, ranked[i]!];
  }
  return ranked;
}

export type SelectionMethod = "std" | "random";

/** The top `top` examples by `method` (all of them when top is undefined). */
export function selectExamples(history: HistoryInput, options: { method: SelectionMethod; top?: number; seed?: number }): RankedExample[] {
  const ranked = options.method === "std" ? historicalVarianceScores(history) : randomRanking(history, options.seed ?? 0);
  return options.top === undefined ? ranked : ranked.slice(0, options.top);
}

/** The keys of a JSON text's top-level object, in the order the text gives them. */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth === 1) {
        let j = i + 1;
        while (j < text.length && /\s/.test(text[j]!)) j++;
        if (text[j] === ":") keys.push(JSON.parse(text.slice(start, i + 1)) as string);
      }
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return keys;
}

/**
 * Parses an accuracy-history JSON text (acc_step_500.json's shape) into a Map in the text's
 * key order. `where` names the source in errors.
 */
export function parseAccuracyHistory(text: string, where = "history"): Map<string, number[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${where}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new DataError(`${where}: expected an object from example index to a list of accuracies`);
  }
  const obj = parsed as Record<string, unknown>;
  const history = new Map<string, number[]>();
  for (const key of topLevelKeys(text)) {
    const list = obj[key];
    if (!Array.isArray(list) || !list.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new DataError(`${where}: key "${key}" must map to a list of numbers`);
    }
    indexOf(key);
    history.set(key, list as number[]);
  }
  return history;
}

/** Reads an accuracy-history file (acc_step_500.json) in its key order. */
export function readAccuracyHistory(path: string): Map<string, number[]> {
  return parseAccuracyHistory(readRegularFile(path, "utf8"), path);
}
