import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { historicalVarianceScores, loadEvalBenchmark, parseAccuracyHistory, readVerlDataset } from "@rlvr/data";

import {
  MATHWORLD_1SHOT_CONFIG, MATHWORLD_BASE_DIR, MATHWORLD_HISTORY_FILE, MATHWORLD_PI1_FILE, MATHWORLD_TEST_FILE, MATHWORLD_VAL_FILE,
  generateSplits, mathworldEvalLines, mathworldPresets, toRow,
} from "../src/index.js";

describe("the built-in 1-shot preset and its committed data", () => {
  it("resolves paths inside this package", () => {
    const p = mathworldPresets()["mathworld-1shot"]!.config as typeof MATHWORLD_1SHOT_CONFIG;
    expect(p.model.path).toBe(MATHWORLD_BASE_DIR);
    expect(p.data.train).toBe(MATHWORLD_PI1_FILE);
    expect(p.eval.files.mathworld).toBe(MATHWORLD_TEST_FILE);
  });

  it("data/test.jsonl is the generated test split", () => {
    expect(readFileSync(MATHWORLD_TEST_FILE, "utf8")).toBe(`${mathworldEvalLines().join("\n")}\n`);
    // read as the trainer's `mathworld` benchmark
    const examples = loadEvalBenchmark("mathworld", MATHWORLD_TEST_FILE);
    const test = generateSplits().test;
    expect(examples).toHaveLength(200);
    expect(examples.map((e) => e.answer)).toEqual(test.map((p) => p.answer));
    expect(examples[0]!.id).toBe("0");
  });

  it("data/val.jsonl is the generated validation split, readable as the mathworld benchmark", () => {
    expect(readFileSync(MATHWORLD_VAL_FILE, "utf8")).toBe(`${mathworldEvalLines(undefined, "val").join("\n")}\n`);
    const examples = loadEvalBenchmark("mathworld", MATHWORLD_VAL_FILE);
    expect(examples.map((e) => e.answer)).toEqual(generateSplits().val.map((p) => p.answer));
  });

  it("data/pi1.jsonl is the top historical-variance example of data/acc_history.json, repeated to the batch size", async () => {
    const ranking = historicalVarianceScores(parseAccuracyHistory(readFileSync(MATHWORLD_HISTORY_FILE, "utf8")));
    const rows = await readVerlDataset(MATHWORLD_PI1_FILE);
    expect(rows).toHaveLength(MATHWORLD_1SHOT_CONFIG.data.trainBatchSize);
    const top = ranking[0]!.index;
    const expected = toRow(generateSplits().train[top]!, top, "train");
    for (const r of rows) expect(r).toEqual(expected);
  });
});
