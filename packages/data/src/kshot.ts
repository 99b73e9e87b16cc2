// k-shot training sets: a few examples of a pool, each repeated to fill the batch.
import { DataError } from "./files.js";
import type { VerlRow } from "./verl.js";

export interface KShotOptions {
  /** Each chosen example appears this many times (pi1_r128: 128). */
  repeat?: number;
  /**
   * Fill exactly this many rows instead: each example gets size / k copies, the first
   * size % k examples one more (merge_pi1_pi13_r128: 2 examples x 64 = 128).
   */
  size?: number;
}

/** The rows of `pool` whose extra_info.index is `index`; throws when there is not exactly one. */
export function findByIndex(pool: readonly VerlRow[], index: number): VerlRow {
  const hits = pool.filter((r) => r.extra_info.index === index);
  if (hits.length === 0) throw new DataError(`no example with extra_info.index ${index} in the dataset`);
  if (hits.length > 1) throw new DataError(`extra_info.index ${index} occurs ${hits.length} times in the dataset; pick from a pool with unique indices`);
  return hits[0]!;
}

/**
 * Builds a k-shot set: the examples with the given extra_info indices, in that order, each
 * repeated in a contiguous block (the layout of the authors' pi*_r128 and merge_* files).
 * Rows are copied, never shared.
 */
export function buildKShotSet(pool: readonly VerlRow[], indices: readonly number[], options: KShotOptions): VerlRow[] {
  if (indices.length === 0) throw new DataError("choose at least one example");
  if ((options.repeat === undefined) === (options.size === undefined)) throw new DataError("give exactly one of repeat and size");
  const n = options.repeat ?? options.size!;
  if (!Number.isInteger(n) || n < 1) throw new DataError(`${options.repeat !== undefined ? "repeat" : "size"} must be a positive integer, got ${n}`);
  if (options.size !== undefined && options.size < indices.length) throw new DataError(`size ${options.size} is smaller than the ${indices.length} chosen examples`);
  const out: VerlRow[] = [];
  indices.forEach((index, k) => {
    const row = findByIndex(pool, index);
    const copies = options.repeat ?? Math.floor(options.size! / indices.length) + (k < options.size! % indices.length ? 1 : 0);
    for (let c = 0; c < copies; c++) out.push(structuredClone(row));
  });
  return out;
}
