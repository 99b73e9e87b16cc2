// Issue 20: graders in the config, the paper's ablation switches, Dr. GRPO's aggregation, stop
// tokens and the MATH500 breakdown.
import { describe, expect, it } from "vitest";
import { aggregationWeights, Tensor } from "@rlvr/native";

import { join } from "node:path";

import { STOP_TOKENS, effectiveLoss, lossWeights, resolveConfig, stopTokenIds, subjectLevelBreakdown, train } from "../src/index.js";
import { REQUIRED_PATHS as paths, configErrorOf as configError, parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

describe("graders in the config", () => {
  it("train with boxed, evaluate with qwen-math by default", () => {
    const c = resolveConfig({ sets: paths });
    expect(c.reward.grader).toBe("boxed");
    expect(c.eval.grader).toBe("qwen-math");
    expect(resolveConfig({ sets: [...paths, "reward.grader=qwen-math", "eval.grader=boxed"] })).toMatchObject({ reward: { grader: "qwen-math" }, eval: { grader: "boxed" } });
  });
  it("an unknown grader names the key and the allowed values", () => {
    const e = configError(() => resolveConfig({ sets: [...paths, "eval.grader=qwen"] }));
    expect(e.key).toBe("eval.grader");
    expect(e.message).toMatch(/"boxed", "qwen-math"/);
  });
});

describe("the paper's switches", () => {
  it("data.wrongLabel takes the paper's labels as given", () => {
    for (const label of ["12.7", "4", "9292725"]) {
      expect(String(resolveConfig({ sets: [...paths, `data.wrongLabel=${label}`] }).data.wrongLabel)).toBe(label);
    }
    expect(resolveConfig({ sets: paths }).data.wrongLabel).toBeNull();
  });
  it("data.wrongLabel and data.wrongLabels together are refused", () => {
    const e = configError(() => resolveConfig({ sets: [...paths, "data.wrongLabel=4", "data.wrongLabels=true"] }));
    expect(e.key).toBe("data.wrongLabel");
  });
  it("entropy-only keeps the entropy term alone: no policy loss, no KL, no weight decay", () => {
    const loss = effectiveLoss(resolveConfig({ sets: [...paths, "preset=entropy-only"] }));
    expect(loss).toEqual({ pgCoef: 0, klCoef: 0, entropyCoeff: 0.001, weightDecay: 0 });
  });
  it("dr-grpo drops the std division and the length normalization", () => {
    const c = resolveConfig({ sets: [...paths, "preset=dr-grpo"] });
    expect(c.algorithm.normStd).toBe(false);
    expect(c.actor.lossAgg).toBe("seq-mean-token-sum-norm");
  });
});

describe("seq-mean-token-sum-norm (Dr. GRPO)", () => {
  const mask = Float32Array.from([1, 1, 1, 0, 1, 0, 0, 0]); // two responses of 3 and 1 tokens, width 4
  it("weights every token 1 / (responses × horizon), whatever the response's length", () => {
    const w = lossWeights(mask, 2, 4, "seq-mean-token-sum-norm", 10);
    expect(Array.from(w)).toEqual(Array.from(mask).map((m) => Math.fround(Math.fround(m / 2) * Math.fround(1 / 10))));
    const perToken = Array.from(w).filter((x) => x > 0);
    expect(new Set(perToken).size).toBe(1); // no per-response length normalization
  });
  it("is seq-mean-token-sum scaled by 1/horizon; the native modes pass through", () => {
    const native = aggregationWeights(Tensor.from(mask, [2, 4]), "seq-mean-token-mean").toArray();
    expect(Array.from(lossWeights(mask, 2, 4, "seq-mean-token-mean", 10))).toEqual(Array.from(native));
    expect(() => lossWeights(mask, 2, 4, "seq-mean-token-sum-norm", 0)).toThrow(/horizon/);
  });
});

describe("stop tokens", () => {
  const vocab = new Map([["<|im_end|>", 7], ["<|endoftext|>", 9]]);
  it("adds <|im_end|> and <|endoftext|> to the model's EOS ids when the tokenizer has them", () => {
    expect(STOP_TOKENS).toEqual(["<|im_end|>", "<|endoftext|>"]);
    expect(stopTokenIds({ tokenToId: (t) => vocab.get(t) }, [9])).toEqual([9, 7]);
    expect(stopTokenIds({ tokenToId: () => undefined }, [3])).toEqual([3]);
  });
});

describe("MATH500 by subject and level", () => {
  it("averages the problem scores per subject and per level", () => {
    const b = subjectLevelBreakdown([
      { score: 1, subject: "Geometry", level: 2 },
      { score: 0, subject: "Algebra", level: 5 },
      { score: 1, subject: "Algebra", level: 2 },
      { score: 0.5, subject: "Algebra", level: 10 },
    ]);
    expect(b).toEqual({
      bySubject: { Algebra: { n: 3, accuracy: 0.5 }, Geometry: { n: 1, accuracy: 1 } },
      byLevel: { "2": { n: 2, accuracy: 1 }, "5": { n: 1, accuracy: 0 }, "10": { n: 1, accuracy: 0.5 } },
    });
    expect(Object.keys(b!.byLevel)).toEqual(["2", "5", "10"]);
    expect(subjectLevelBreakdown([{ score: 1 }])).toBeNull();
  });
});

describe("training data checks (train())", () => {
  async function rows(golds: string[], index = (i: number) => 10 + i): Promise<string> {
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const file = join(await tempDir(), "train.jsonl");
    writeFileSync(
      file,
      golds.map((g, i) => JSON.stringify({ data_source: "toy", prompt: [{ role: "user", content: "1+1" }], ability: "math", reward_model: { ground_truth: g, style: "rule" }, extra_info: { index: index(i) } })).join("\n") + "\n",
    );
    return file;
  }
  const quick = { trainer: { totalSteps: 1, testFreq: 0, saveFreq: 0 }, eval: { beforeTrain: false } };

  it("an empty gold is an error at load time naming the file and the row", async () => {
    const model = await tinyModelDir();
    const data = await tinyData();
    const train_ = await rows(["2", " ", "5"]);
    const config = tinyConfig(model, { ...data, train: train_ }, quick);
    await expect(train({ config, outDir: join(await tempDir(), "run"), reward: parityReward })).rejects.toThrow(
      new RegExp(`${train_.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 1 row\\(s\\) with an empty reward_model.ground_truth: row 1 \\(extra_info.index 11\\)`),
    );
  });

  it("data.wrongLabel trains every copy of the example against the given label", async () => {
    const model = await tinyModelDir();
    const data = await tinyData();
    const train_ = await rows(["12.8", "12.8"], () => 124);
    const golds: string[] = [];
    const reward = async (items: readonly { response: string; gold: string }[]) => {
      golds.push(...items.map((i) => i.gold));
      return parityReward(items);
    };
    const config = tinyConfig(model, { ...data, train: train_ }, { ...quick, data: { wrongLabel: 9292725 } });
    await train({ config, outDir: join(await tempDir(), "run"), reward });
    expect(golds.length).toBeGreaterThan(0);
    expect(new Set(golds)).toEqual(new Set(["9292725"]));
    const several = tinyConfig(model, data, { ...quick, data: { wrongLabel: "4" } });
    await expect(train({ config: several, outDir: join(await tempDir(), "run2"), reward })).rejects.toThrow(/holds 4 different examples/);
  });
});
