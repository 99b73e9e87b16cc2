// The README's example, run as written against the paper's data (skipped, saying so, without it).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisedOutput, readmeBlock, runReadmeExample } from "@rlvr/testing/readmeExample";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../src/index.js";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const haveData =
  sharedPath("datasets", "one-shot-rlvr", "train", "dsr_sub.parquet") !== null &&
  sharedPath("datasets", "one-shot-rlvr", "acc_step_500.json") !== null &&
  sharedPath("datasets", "eval", "math500", "test.jsonl") !== null;
if (!haveData) console.warn("data README example skipped: ../shared/datasets (one-shot-rlvr, eval/math500) not found");

describe.skipIf(!haveData)("README example", () => {
  it("prints what its closing comment says", async () => {
    const promised = promisedOutput(readmeBlock(pkg));
    expect(promised).toHaveLength(1);
    expect(await runReadmeExample(pkg)).toEqual(promised);
  }, 120_000);
});
