// The run files under examples/ resolve against the config schema: every key known, every value valid.
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { resolveConfig } from "../src/index.js";

const examples = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples");
const files = readdirSync(examples).filter((f) => f.endsWith(".yaml"));

describe("examples/*.yaml", () => {
  it("there are examples to check", () => expect(files.length).toBeGreaterThanOrEqual(3));

  it.each(files)("%s resolves to a valid config", (file) => {
    expect(() => resolveConfig({ file: join(examples, file) })).not.toThrow();
  });

  it("the paper's run file has the paper's recipe", () => {
    const c = resolveConfig({ file: join(examples, "qwen2.5-math-1.5b-pi1.yaml") });
    expect(c.model.backend).toBe("cuda");
    expect([c.data.trainBatchSize, c.rollout.n, c.data.maxResponseLength, c.rollout.temperature]).toEqual([128, 8, 3072, 0.6]);
    expect([c.actor.lr, c.actor.klCoef, c.actor.entropyCoeff, c.actor.klType]).toEqual([1e-6, 0.001, 0.001, "low_var_kl"]);
    expect(c.eval.benchmarks.sort()).toEqual(["aime24", "aime25", "amc23", "math500", "minerva_math", "olympiadbench"]);
    expect([c.trainer.testFreq, c.trainer.saveFreq, c.trainer.keepCheckpoints]).toEqual([20, 20, 5]);
  });
});
