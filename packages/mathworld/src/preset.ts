// The built-in 1-shot RLVR preset on the math world: the committed base model, the committed
// 1-shot training set (pi_1, chosen by historical variance score from data/acc_history.json) and
// the test split as an evaluation benchmark. Paths are resolved from this package's own folder,
// so the preset works from any working directory. Plain objects: @rlvr/cli registers them with
// @rlvr/trainer's registerPreset (the trainer does not depend on this package).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { DEFAULT_SEED, generateSplits, userContent } from "./generator.js";

/** The package root (this file lives in src/ or dist/). */
export const MATHWORLD_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The committed base model (HF layout). */
export const MATHWORLD_BASE_DIR = join(MATHWORLD_ROOT, "base");
export const MATHWORLD_DATA_DIR = join(MATHWORLD_ROOT, "data");
/** The test split (200) as `{id, problem, answer, family, difficulty}` lines: the `mathworld` benchmark. */
export const MATHWORLD_TEST_FILE = join(MATHWORLD_DATA_DIR, "test.jsonl");
/** The validation split (200) in the same format: pass it as eval.files.mathworld to choose hyperparameters. */
export const MATHWORLD_VAL_FILE = join(MATHWORLD_DATA_DIR, "val.jsonl");
/** pi_1 repeated to the preset's batch size (verl rows), written by `rlvr select`. */
export const MATHWORLD_PI1_FILE = join(MATHWORLD_DATA_DIR, "pi1.jsonl");
/** Per-example training accuracy per epoch of the short full-pool run (acc_step_500.json's shape). */
export const MATHWORLD_HISTORY_FILE = join(MATHWORLD_DATA_DIR, "acc_history.json");

/** The preset `rlvr train` uses when given no --config and no --preset. */
export const DEFAULT_TRAIN_PRESET = "mathworld-1shot";

/** The evaluation lines of the test (or validation) split (the prompt text is exactly the training prompt's). */
export function mathworldEvalLines(seed = DEFAULT_SEED, split: "test" | "val" = "test"): string[] {
  return generateSplits({ seed })[split].map((p, i) =>
    JSON.stringify({ id: String(i), problem: userContent(p), answer: p.answer, family: p.family, difficulty: p.difficulty }),
  );
}

/** Writes the `mathworld` benchmark file (the committed data/test.jsonl and data/val.jsonl are this with the default seed). */
export function writeMathworldEvalFile(path: string, seed = DEFAULT_SEED, split: "test" | "val" = "test"): void {
  writeFileSync(path, `${mathworldEvalLines(seed, split).join("\n")}\n`);
}

/**
 * The 1-shot recipe scaled to the tiny model on 2 CPU cores: 16 prompts x 8 samples a step, 100
 * steps (about 2.5 min), the paper's KL and entropy coefficients; lr 5e-5 (1e-4 peaks and decays
 * sooner, 3e-4 collapses: README, "What reproduces and what does not").
 */
export const MATHWORLD_1SHOT_CONFIG = {
  model: { path: MATHWORLD_BASE_DIR },
  data: { train: MATHWORLD_PI1_FILE, trainBatchSize: 16, maxPromptLength: 128, maxResponseLength: 96 },
  rollout: { n: 8, temperature: 0.6, maxBatch: 128 },
  actor: { lr: 5e-5, ppoMiniBatchSize: 16, microBatchSize: 32, klCoef: 0.001, entropyCoeff: 0.001 },
  reward: { workers: 2 },
  // greedy, no system prompt, 96 new tokens, the strict boxed grader: the same protocol as
  // `rlvr mathworld eval` (the math world's answers are always boxed; its numbers are measured so)
  eval: { benchmarks: ["mathworld"], files: { mathworld: MATHWORLD_TEST_FILE }, maxNewTokens: 96, systemPrompt: "", grader: "boxed" },
  trainer: { totalSteps: 100, testFreq: 10, saveFreq: 0, seed: 0 },
};

export interface PlainPreset {
  description: string;
  config: Record<string, unknown>;
}

/** The math world's presets for `registerPreset`. */
export function mathworldPresets(): Record<string, PlainPreset> {
  return {
    [DEFAULT_TRAIN_PRESET]: {
      description: "1-shot RLVR (GRPO) of the built-in tiny base model on pi_1 of the math world (CPU, minutes)",
      config: structuredClone(MATHWORLD_1SHOT_CONFIG),
    },
  };
}
