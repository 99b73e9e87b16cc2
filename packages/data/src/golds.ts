// Training golds are checked when the rows are loaded: an empty ground truth can never be
// matched, so every response to it would silently earn 0 and the example would train toward
// nothing. (train/dsr_sub.parquet row 265 is one.)
import { DataError } from "./files.js";
import type { VerlRow } from "./verl.js";

/**
 * Throws a DataError naming `file`, the row (0-based position) and its extra_info.index for
 * each row whose reward_model.ground_truth is empty or blank (the first five are listed).
 */
export function checkGolds(rows: readonly VerlRow[], file: string): void {
  const empty = rows.flatMap((r, i) => (r.reward_model.ground_truth.trim() === "" ? [{ row: i, index: r.extra_info.index }] : []));
  if (empty.length === 0) return;
  const shown = empty.slice(0, 5).map((e) => `row ${e.row} (extra_info.index ${e.index})`).join(", ");
  throw new DataError(
    `${file}: ${empty.length} row(s) with an empty reward_model.ground_truth: ${shown}${empty.length > 5 ? ", ..." : ""}; ` +
      `no answer can match an empty gold: fill in the gold or drop the row(s) from the file`,
  );
}
