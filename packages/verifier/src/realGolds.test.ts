import { describe, expect, it } from "vitest";
import { loadEvalGolds, loadParquetGolds, sharedDir } from "./datasets.js";
import { auditGolds } from "./realGolds.js";

const shared = sharedDir();

/** Golds that are broken in the data itself; see README "Real golds". */
const KNOWN_BAD_GOLDS = new Map([
  ["", "empty ground truth (train/dsr_sub.parquet #265)"],
  ["\\frac{2 k n}{n+k-1}-2 \\frac{k!n!}{(k+n-1)!", "unbalanced braces (train/dsr_sub.parquet #1187): cannot be written in \\boxed{}"],
]);

describe.skipIf(!shared)("real golds from shared/datasets", () => {
  it("every gold equals itself in \\boxed{} and differs from other problems' numeric golds", async () => {
    const items = [...loadEvalGolds(shared!), ...(await loadParquetGolds(shared!))];
    expect(items.length).toBeGreaterThan(1_000);
    const audit = await auditGolds(items);
    console.log(
      `real golds: ${audit.selfEqual}/${audit.golds} equal to themselves; ` +
        `${audit.crossRejected}/${audit.crossPairs} numeric cross pairs rejected`,
    );
    const unexpected = audit.selfFailures.filter((f) => !KNOWN_BAD_GOLDS.has(f.gold));
    expect(unexpected).toEqual([]);
    expect(audit.crossFailures).toEqual([]);
  });
});

if (!shared) {
  describe("real golds", () => {
    it.skip("skipped: shared/datasets not found (set RLVR_SHARED_DIR or place shared/ beside the repo)", () => {});
  });
}
