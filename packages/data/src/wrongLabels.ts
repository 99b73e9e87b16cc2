// The wrong-label ablation (spec section 8): train against a gold that is known to be wrong.
import { DataError } from "./files.js";
import { seededRandom } from "./selection.js";
import type { VerlRow } from "./verl.js";

/**
 * An answer that differs from `gold`. A plain number is shifted by a nonzero integer
 * (1..9, either sign, from `rand`), keeping its decimals; anything else becomes
 * `(gold)+k`, which no grader accepts for `gold`.
 */
export function wrongAnswerFor(gold: string, rand: () => number = seededRandom(0)): string {
  const trimmed = gold.trim();
  const k = (1 + Math.floor(rand() * 9)) * (rand() < 0.5 ? -1 : 1);
  const num = /^-?\d+(?:\.(\d+))?$/.exec(trimmed);
  if (num) {
    const decimals = num[1]?.length ?? 0;
    return (Number(trimmed) + k).toFixed(decimals);
  }
  return `(${trimmed})${k < 0 ? "-" : "+"}${Math.abs(k)}`;
}

/**
 * A copy of `row` whose reward_model.ground_truth is `wrong` (given) or a generated wrong
 * answer; the original gold is kept in extra_info.original_ground_truth.
 */
export function withWrongLabel(row: VerlRow, wrong?: string, rand?: () => number): VerlRow {
  const gold = row.reward_model.ground_truth;
  const label = wrong ?? wrongAnswerFor(gold, rand);
  if (label.trim() === gold.trim()) throw new DataError(`the wrong label "${label}" equals the gold of example ${row.extra_info.index}`);
  const copy = structuredClone(row);
  copy.reward_model.ground_truth = label;
  copy.extra_info.original_ground_truth = gold;
  return copy;
}

/**
 * Relabels every row. `labels` maps extra_info.index to the wrong answer to use; examples
 * without one get a generated answer (the same for all copies of an example, from `seed`).
 */
export function applyWrongLabels(rows: readonly VerlRow[], labels: ReadonlyMap<number, string> = new Map(), seed = 0): VerlRow[] {
  const chosen = new Map(labels);
  const rand = seededRandom(seed);
  return rows.map((row) => {
    const index = row.extra_info.index;
    if (!chosen.has(index)) chosen.set(index, wrongAnswerFor(row.reward_model.ground_truth, rand));
    return withWrongLabel(row, chosen.get(index));
  });
}
