// Test fixtures: a tiny random Qwen2 model with a short chat template, a tiny verl JSONL
// training set and a tiny math500-shaped benchmark.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

import { Engine, type EngineOptions } from "@rlvr/engine";
import { loadModelDir, saveCheckpoint } from "@rlvr/model";
import { engineStepModel, generate } from "@rlvr/sampler";

import { randomWeights, tempDir, tinyQwen2, tinyTokenizerFileMap } from "../../model/src/testing/fixtures.js";
import { ConfigError, resolveConfig, responseWidth, scoreRollouts, type ConfigInput, type Rollout, type TrainConfig } from "../src/index.js";

export { tempDir };

/** A chat template that renders only the contents, so byte-level prompts stay short. */
export const SHORT_TEMPLATE =
  "{%- for m in messages %}{{- m['content'] }}{%- endfor %}{%- if add_generation_prompt %}{{- ' =' }}{%- endif %}";

export async function tinyModelDir(seed = 3, overrides: Record<string, unknown> = {}): Promise<string> {
  const dir = join(await tempDir(), "model");
  const config = tinyQwen2({ max_position_embeddings: 64, ...overrides });
  const files = tinyTokenizerFileMap();
  const tc = JSON.parse(files["tokenizer_config.json"]!) as Record<string, unknown>;
  tc.chat_template = SHORT_TEMPLATE;
  files["tokenizer_config.json"] = JSON.stringify(tc);
  await saveCheckpoint(dir, config, randomWeights(config, seed), files, { dtype: "F32" });
  return dir;
}

export const PROBLEMS: [string, string][] = [
  ["1+1", "2"],
  ["2+3", "5"],
  ["4*2", "8"],
  ["9-7", "2"],
];

export async function tinyData(): Promise<{ train: string; test: string }> {
  const dir = await tempDir();
  const train = join(dir, "train.jsonl");
  writeFileSync(
    train,
    PROBLEMS.map(([q, a], i) =>
      JSON.stringify({
        data_source: "toy", prompt: [{ role: "user", content: q }], ability: "math",
        reward_model: { ground_truth: a, style: "rule" }, extra_info: { index: 10 + i, split: "train" },
      }),
    ).join("\n") + "\n",
  );
  const test = join(dir, "test.jsonl");
  writeFileSync(test, PROBLEMS.map(([q, a], i) => JSON.stringify({ problem: q, answer: a, unique_id: `t${i}` })).join("\n") + "\n");
  return { train, test };
}

/** A small, fast config over the tiny model. */
export function tinyConfig(model: string, data: { train: string; test: string }, extra: ConfigInput = {}): TrainConfig {
  const base: ConfigInput = {
    model: { path: model },
    data: { train: data.train, trainBatchSize: 2, maxResponseLength: 6 },
    rollout: { n: 4 },
    actor: { lr: 1e-3, ppoMiniBatchSize: 1, microBatchSize: 3 },
    reward: { workers: 1 },
    eval: { benchmarks: ["math500"], files: { math500: data.test }, limit: 2, maxNewTokens: 4, systemPrompt: "" },
    trainer: { totalSteps: 3, saveFreq: 2, testFreq: 2, seed: 7 },
  };
  return resolveConfig({ base, file: extra });
}

/** A deterministic reward that varies within groups: 1 when the response has an even token count of bytes < 128. */
export async function parityReward(items: readonly { response: string }[]) {
  return items.map((i) => {
    const c = [...i.response].filter((ch) => ch.charCodeAt(0) % 2 === 0).length;
    const ok = c % 2 === 0;
    return { score: ok ? 1 : 0, correct: ok };
  });
}

/**
 * Reference log-probs of the same rollouts (2 prompts x 3 samples of the tiny model, sampled on
 * the CPU engine) scored with shared prompts on the CPU engine and on `backend`: the two logp
 * arrays, for the backend comparisons.
 */
export async function sharedPromptScores(backend: EngineOptions): Promise<{ cpu: Float32Array; other: Float32Array }> {
  const m = await loadModelDir(await tinyModelDir(5));
  const cpu = Engine.fromWeights(m.config, m.weights!), other = Engine.fromWeights(m.config, m.weights!, backend);
  const prompts = [Int32Array.from(m.tokenizer.encode("1+1 =")), Int32Array.from(m.tokenizer.encode("12*3 ="))];
  const samples = await generate(engineStepModel(cpu, { maxNewTokens: 6 }), prompts, {
    n: 3, temperature: 0.6, maxNewTokens: 6, seed: 4, decode: (t) => m.tokenizer.decode(Array.from(t)),
  });
  const rollouts: Rollout[] = samples.map((s) => ({
    promptIds: prompts[s.promptIndex]!, responseIds: s.tokens, oldLogp: s.logprobs, text: s.text!, finishReason: s.finishReason,
    group: s.promptIndex, exampleIndex: 0, gold: "2",
  }));
  const W = responseWidth(rollouts);
  return { cpu: (await scoreRollouts(cpu, rollouts, W, 0.6, 4)).logp, other: (await scoreRollouts(other, rollouts, W, 0.6, 4)).logp };
}

/** --set values for the two keys without a default, for config tests. */
export const REQUIRED_PATHS = ["model.path=/m", "data.train=/d.parquet"];

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}
