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

/**
 * The labels the paper trained pi_1 with besides its stored gold "12.8" (the exact answer is
 * ∛2048 ≈ 12.699): "12.7" (the answer rounded correctly), "4" (wrong, but a value a model
 * can guess) and "9292725" (wrong and unguessable). Set one with data.wrongLabel.
 */
export const PAPER_PI1_LABELS: readonly string[] = ["12.7", "4", "9292725"];

/**
 * Every row relabeled with one given `label` (the paper's wrong-label runs on pi_1). The rows
 * must be copies of one example: one label for several problems is a mistake. `where` names
 * the data file in errors.
 */
export function applyFixedLabel(rows: readonly VerlRow[], label: string | number, where = "the training data"): VerlRow[] {
  const text = String(label).trim();
  if (text === "") throw new DataError(`data.wrongLabel is empty: give the label to train against (the paper's pi_1 runs: ${PAPER_PI1_LABELS.join(", ")})`);
  const indices = new Set(rows.map((r) => r.extra_info.index));
  if (indices.size > 1) {
    const shown = [...indices].slice(0, 5).join(", ");
    throw new DataError(
      `data.wrongLabel sets one label for every row, but ${where} holds ${indices.size} different examples (extra_info.index ${shown}${indices.size > 5 ? ", ..." : ""}): ` +
        `use a single-example set (pi1_r128.parquet) or data.wrongLabels: true for a generated wrong label per example`,
    );
  }
  return rows.map((row) => withWrongLabel(row, text));
}
