// The math world: seeded arithmetic and simple-algebra word problems of graded difficulty,
// each with a short worked solution that ends in \boxed{answer}, and verl-style rows.
//
// Every answer is a positive integer, so the verifier's string match decides it. Each step of a
// worked solution is one operation ("23 + 15 = 38."), the granularity a tiny model can learn.
import type { VerlRow } from "@rlvr/data";

import { Rng } from "./rng.js";

export const FAMILIES = ["add_sub", "mul", "linear", "fraction"] as const;
export type Family = (typeof FAMILIES)[number];
export const DIFFICULTIES = [1, 2, 3] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

/** The instruction every DSR-style prompt ends with (spec section 6). */
export const INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}.";
/** The Qwen2.5-Math evaluation system prompt (spec section 7). */
export const EVAL_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}.";
export const DATA_SOURCE = "mathworld";

export interface Problem {
  family: Family;
  difficulty: Difficulty;
  /** The problem statement, without the instruction. */
  question: string;
  /** The worked solution; its last sentence is "The answer is \boxed{answer}." */
  solution: string;
  /** The gold answer (a positive integer as text). */
  answer: string;
}

const NAMES = ["Tom", "Ann", "Sam", "Mia", "Ben", "Lily", "Max", "Zoe", "Leo", "Eva"] as const;
const ITEMS = ["apples", "pens", "books", "coins", "cards", "eggs", "cups", "toys", "shells", "stamps"] as const;
const BOXES = ["box", "bag", "jar", "pack", "shelf", "basket"] as const;

function finish(steps: string[], answer: number): string {
  return [...steps, `The answer is \\boxed{${answer}}.`].join(" ");
}

function addSub(r: Rng, d: Difficulty): Omit<Problem, "family" | "difficulty"> {
  const name = r.pick(NAMES);
  const item = r.pick(ITEMS);
  if (d === 1) {
    const a = r.int(1, 9), b = r.int(1, 9);
    const s = a + b;
    return {
      question: `${name} has ${a} ${item}. ${name} gets ${b} more. How many ${item} does ${name} have now?`,
      solution: finish([`${a} + ${b} = ${s}.`], s),
      answer: String(s),
    };
  }
  if (d === 2) {
    const a = r.int(10, 60), b = r.int(2, 30);
    const s = a + b;
    const c = r.int(2, s - 1);
    const t = s - c;
    return {
      question: `${name} has ${a} ${item}. ${name} buys ${b} more and gives away ${c}. How many ${item} does ${name} have now?`,
      solution: finish([`${a} + ${b} = ${s}.`, `${s} - ${c} = ${t}.`], t),
      answer: String(t),
    };
  }
  const a = r.int(20, 99);
  const b2 = r.int(2, a - 5);
  const s = a - b2;
  const c = r.int(5, 60);
  const t = s + c;
  const e = r.int(2, t - 1);
  const u = t - e;
  return {
    question: `${name} has ${a} ${item}. ${name} loses ${b2}, then finds ${c}, then gives ${e} to a friend. How many ${item} are left?`,
    solution: finish([`${a} - ${b2} = ${s}.`, `${s} + ${c} = ${t}.`, `${t} - ${e} = ${u}.`], u),
    answer: String(u),
  };
}

function mul(r: Rng, d: Difficulty): Omit<Problem, "family" | "difficulty"> {
  const item = r.pick(ITEMS);
  const box = r.pick(BOXES);
  if (d === 1) {
    const a = r.int(2, 9), b = r.int(2, 9);
    return {
      question: `Each ${box} holds ${a} ${item}. How many ${item} are in ${b} ${box}s?`,
      solution: finish([`${a} * ${b} = ${a * b}.`], a * b),
      answer: String(a * b),
    };
  }
  if (d === 2) {
    const tens = r.int(1, 4), ones = r.int(1, 9), b = r.int(2, 9);
    const a = tens * 10 + ones;
    const p1 = tens * 10 * b, p2 = ones * b;
    return {
      question: `Each ${box} holds ${a} ${item}. How many ${item} are in ${b} ${box}s?`,
      solution: finish([`${a} * ${b} = ${tens * 10} * ${b} + ${ones} * ${b}.`, `${tens * 10} * ${b} = ${p1}.`, `${ones} * ${b} = ${p2}.`, `${p1} + ${p2} = ${p1 + p2}.`], a * b),
      answer: String(a * b),
    };
  }
  const name = r.pick(NAMES);
  const n = r.int(2, 9), price = r.int(2, 9), extra = r.int(2, 30);
  const cost = n * price;
  return {
    question: `${name} buys ${n} ${item} at ${price} dollars each and pays ${extra} dollars for a ${box}. How many dollars does ${name} pay in total?`,
    solution: finish([`${n} * ${price} = ${cost}.`, `${cost} + ${extra} = ${cost + extra}.`], cost + extra),
    answer: String(cost + extra),
  };
}

function linear(r: Rng, d: Difficulty): Omit<Problem, "family" | "difficulty"> {
  const x = r.int(d === 1 ? 1 : 2, d === 1 ? 9 : 12);
  if (d === 1) {
    const b = r.int(1, 9);
    const c = x + b;
    return { question: `Solve for x: x + ${b} = ${c}.`, solution: finish([`x = ${c} - ${b} = ${x}.`], x), answer: String(x) };
  }
  const a = r.int(2, 9);
  if (d === 2) {
    const c = a * x;
    return { question: `Solve for x: ${a}x = ${c}.`, solution: finish([`x = ${c} / ${a} = ${x}.`], x), answer: String(x) };
  }
  const b = r.int(1, 30);
  const ax = a * x, c = ax + b;
  return {
    question: `Solve for x: ${a}x + ${b} = ${c}.`,
    solution: finish([`${a}x = ${c} - ${b} = ${ax}.`, `x = ${ax} / ${a} = ${x}.`], x),
    answer: String(x),
  };
}

const PERCENT_PARTS: readonly [percent: number, divisor: number][] = [[50, 2], [25, 4], [20, 5], [10, 10]];

function fraction(r: Rng, d: Difficulty): Omit<Problem, "family" | "difficulty"> {
  if (d === 1) {
    const h = r.int(1, 20);
    const n = 2 * h;
    const item = r.pick(ITEMS);
    const name = r.pick(NAMES);
    return {
      question: `${name} has ${n} ${item} and gives half of them away. How many ${item} does ${name} give away?`,
      solution: finish([`${n} / 2 = ${h}.`], h),
      answer: String(h),
    };
  }
  if (d === 2) {
    if (r.chance(0.5)) {
      const k = r.int(3, 9), q = r.int(2, 12);
      const n = k * q;
      return { question: `What is 1/${k} of ${n}?`, solution: finish([`${n} / ${k} = ${q}.`], q), answer: String(q) };
    }
    const [p, k] = r.pick(PERCENT_PARTS);
    const q = r.int(2, 20);
    const n = k * q;
    return {
      question: `What is ${p}% of ${n}?`,
      solution: finish([`${p}% = 1/${k}.`, `${n} / ${k} = ${q}.`], q),
      answer: String(q),
    };
  }
  const k = r.int(3, 9), m = r.int(2, k - 1), q = r.int(2, 10);
  const n = k * q;
  return {
    question: `What is ${m}/${k} of ${n}?`,
    solution: finish([`${n} / ${k} = ${q}.`, `${q} * ${m} = ${q * m}.`], q * m),
    answer: String(q * m),
  };
}

const MAKERS: Record<Family, (r: Rng, d: Difficulty) => Omit<Problem, "family" | "difficulty">> = {
  add_sub: addSub,
  mul,
  linear,
  fraction,
};

/** One problem of the given family and difficulty. */
export function makeProblem(r: Rng, family: Family, difficulty: Difficulty): Problem {
  return { family, difficulty, ...MAKERS[family](r, difficulty) };
}

/**
 * One problem: family uniform; difficulty uniform, or drawn with `difficultyWeights` (relative
 * weights of levels 1, 2, 3; pretraining leans on the easy levels).
 */
export function randomProblem(r: Rng, difficultyWeights?: readonly [number, number, number]): Problem {
  const family = r.pick(FAMILIES);
  if (!difficultyWeights) return makeProblem(r, family, r.pick(DIFFICULTIES));
  const total = difficultyWeights[0] + difficultyWeights[1] + difficultyWeights[2];
  let u = r.float() * total;
  let d: Difficulty = 3;
  for (const level of DIFFICULTIES) {
    u -= difficultyWeights[level - 1]!;
    if (u < 0) {
      d = level;
      break;
    }
  }
  return makeProblem(r, family, d);
}

/** The user message of a problem: the question followed by the boxed-answer instruction. */
export function userContent(p: Problem): string {
  return `${p.question} ${INSTRUCTION}`;
}

/** The verl row of a problem (spec section 6); extra_info also keeps the family, difficulty and solution. */
export function toRow(p: Problem, index: number, split: string): VerlRow {
  return {
    data_source: DATA_SOURCE,
    prompt: [{ role: "user", content: userContent(p) }],
    ability: "math",
    reward_model: { ground_truth: p.answer, style: "rule" },
    extra_info: { index, split, family: p.family, difficulty: p.difficulty, solution: p.solution },
  };
}

export interface SplitOptions {
  seed?: number;
  trainSize?: number;
  testSize?: number;
  valSize?: number;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_TRAIN_SIZE = 1000;
export const DEFAULT_TEST_SIZE = 200;
export const DEFAULT_VAL_SIZE = 200;

export interface Splits {
  seed: number;
  train: Problem[];
  test: Problem[];
  /** For choosing hyperparameters, so the test split is only reported. */
  val: Problem[];
}

/**
 * Seeded, disjoint train pool, test and validation sets: distinct questions drawn in one stream,
 * the first `testSize` go to test, the next `trainSize` to train, the next `valSize` to
 * validation (drawn last, so adding it left the earlier splits as they were). Same seed → same splits.
 */
export function generateSplits(o: SplitOptions = {}): Splits {
  const seed = o.seed ?? DEFAULT_SEED;
  const trainSize = o.trainSize ?? DEFAULT_TRAIN_SIZE;
  const testSize = o.testSize ?? DEFAULT_TEST_SIZE;
  const valSize = o.valSize ?? DEFAULT_VAL_SIZE;
  const total = trainSize + testSize + valSize;
  const r = new Rng(seed);
  const seen = new Set<string>();
  const all: Problem[] = [];
  let tries = 0;
  while (all.length < total) {
    if (++tries > 100 * total + 1000) throw new Error("mathworld: cannot draw enough distinct problems");
    const p = randomProblem(r);
    if (seen.has(p.question)) continue;
    seen.add(p.question);
    all.push(p);
  }
  return { seed, test: all.slice(0, testSize), train: all.slice(testSize, testSize + trainSize), val: all.slice(testSize + trainSize) };
}

/** verl rows of both splits (extra_info.index is the position within the split). */
export function splitRows(s: Splits): { train: VerlRow[]; test: VerlRow[] } {
  return { train: s.train.map((p, i) => toRow(p, i, "train")), test: s.test.map((p, i) => toRow(p, i, "test")) };
}

/**
 * An endless stream of pretraining problems that never repeats a question of `exclude`
 * (the train pool and the test set), so neither is memorized in pretraining.
 */
export function* pretrainStream(
  seed: number,
  exclude: ReadonlySet<string>,
  difficultyWeights?: readonly [number, number, number],
): Generator<Problem> {
  const r = new Rng((seed ^ 0x5eed1234) >>> 0);
  for (;;) {
    const p = randomProblem(r, difficultyWeights);
    if (!exclude.has(p.question)) yield p;
  }
}
