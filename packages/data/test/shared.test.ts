// Checks against the real files in ../shared (skipped, with a message, when absent).
import { describe, expect, it } from "vitest";
import {
  buildKShotSet,
  EVAL_BENCHMARKS,
  historicalVarianceScores,
  loadEvalBenchmark,
  readAccuracyHistory,
  readVerlParquet,
  sharedPath,
  writeVerlParquet,
  writeVerlJsonl,
  readVerlJsonl,
} from "../src/index.js";
import { join } from "node:path";
import { tempDir } from "./helpers.js";

const oneShot = sharedPath("datasets", "one-shot-rlvr");
const evalDir = sharedPath("datasets", "eval");
const SKIP = "skipped: shared data not found (set RLVR_SHARED_DIR or place shared/ beside the repository)";

if (!oneShot || !evalDir) {
  describe("shared data", () => {
    it.skip(SKIP, () => {});
  });
}

describe.skipIf(!oneShot)("one-shot-rlvr files", () => {
  const train = (name: string) => join(oneShot!, "train", name);

  it("ranks acc_step_500.json: pi_1 = 124, pi_2 = 267, pi_13 = 682, pi_1209 = 789 (ties in file order)", async () => {
    const history = readAccuracyHistory(join(oneShot!, "acc_step_500.json"));
    expect(history.size).toBe(1209);
    const ranked = historicalVarianceScores(history);
    expect(ranked[0]!.index).toBe(124);
    expect(ranked[0]!.score).toBeCloseTo(0.4067558705152849, 12);
    expect(ranked[1]!.index).toBe(267);
    expect(ranked[12]!.index).toBe(682);
    // The last rank is among ~hundreds of zero-variance ties: only the file's key order gives 789.
    expect(ranked[1208]!.index).toBe(789);
    // The authors' single-example files are exactly these ranks.
    for (const [name, rank] of [["pi1_r128.parquet", 1], ["pi2_r128.parquet", 2], ["pi13_r128.parquet", 13], ["pi1209_r128.parquet", 1209]] as const) {
      const rows = await readVerlParquet(train(name));
      expect(new Set(rows.map((r) => r.extra_info.index))).toEqual(new Set([ranked[rank - 1]!.index]));
    }
  });

  it("dsr_sub index 124 repeated 128 times reproduces pi1_r128.parquet, also after a parquet and JSONL round trip", async () => {
    const pool = await readVerlParquet(train("dsr_sub.parquet"));
    expect(pool.length).toBe(1209);
    const expected = await readVerlParquet(train("pi1_r128.parquet"));
    const built = buildKShotSet(pool, [124], { repeat: 128 });
    expect(built).toEqual(expected);
    expect(built[0]!.reward_model.ground_truth).toBe("12.8");
    const dir = tempDir();
    writeVerlParquet(join(dir, "pi1.parquet"), built);
    writeVerlJsonl(join(dir, "pi1.jsonl"), built);
    const back = await readVerlParquet(join(dir, "pi1.parquet"));
    expect(back).toEqual(expected);
    expect(readVerlJsonl(join(dir, "pi1.jsonl"))).toEqual(expected);
  });

  it("merge_* files are contiguous blocks that fill 128 rows", async () => {
    const pool = await readVerlParquet(train("dsr_sub.parquet"));
    expect(buildKShotSet(pool, [124, 682], { size: 128 })).toEqual(await readVerlParquet(train("merge_pi1_pi13_r128.parquet")));
    expect(buildKShotSet(pool, [124, 267, 682, 789], { size: 128 })).toEqual(
      await readVerlParquet(train("merge_pi1_pi2_pi13_pi1209_r128.parquet")),
    );
  });

  it("reads math500.parquet, keeping extra_info fields beyond index and split, and writes them back", async () => {
    const rows = await readVerlParquet(join(oneShot!, "test", "math500.parquet"));
    expect(rows.length).toBe(500);
    expect(typeof rows[0]!.extra_info.solution).toBe("string");
    const dir = tempDir();
    writeVerlParquet(join(dir, "m.parquet"), rows.slice(0, 20));
    expect(await readVerlParquet(join(dir, "m.parquet"))).toEqual(rows.slice(0, 20));
  });
});

describe.skipIf(!evalDir)("eval benchmarks", () => {
  const sizes: Record<string, number> = { math500: 500, aime24: 30, aime25: 30, amc23: 40, minerva_math: 272, olympiadbench: 675 };

  it.each(EVAL_BENCHMARKS.map((b) => [b]))("%s loads every row into {id, problem, answer, source}", (name) => {
    const items = loadEvalBenchmark(name);
    expect(items.length).toBe(sizes[name]);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    for (const item of items) {
      expect(item.source).toBe(name);
      expect(item.problem.length).toBeGreaterThan(10);
      expect(item.answer.length).toBeGreaterThan(0);
    }
  });

  it("maps the per-benchmark fields", () => {
    expect(loadEvalBenchmark("amc23")[0]).toMatchObject({ id: "0", answer: "27" });
    expect(loadEvalBenchmark("aime25")[0]).toMatchObject({ id: "0", answer: "70" });
    expect(loadEvalBenchmark("math500")[0]).toMatchObject({ id: "test/precalculus/807.json", answer: "\\left( 3, \\frac{\\pi}{2} \\right)" });
    const olympiad = loadEvalBenchmark("olympiadbench")[0]!;
    expect(olympiad.problem).toMatch(/^Xenia and Sergey/);
    expect(olympiad.id).toBe("1606");
    expect(loadEvalBenchmark("minerva_math")[0]!.answer).not.toMatch(/boxed/);
  });
});
