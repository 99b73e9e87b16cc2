// Test fixtures of the CLI's tests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { saveCheckpoint } from "@rlvr/model";

import { randomWeights, tempDir, tinyQwen2, tinyTokenizerFileMap } from "../../model/src/testing/fixtures.js";
import { tempDir as trainerTempDir, tinyData, tinyModelDir as trainerTinyModelDir } from "../../trainer/test/helpers.js";

/** A random tiny Qwen2 model folder (f32, byte-level tokenizer with the Qwen chat template). */
export async function tinyModelDir(configOverrides: Record<string, unknown> = {}): Promise<string> {
  const dir = join(await tempDir(), "model");
  const config = tinyQwen2(configOverrides);
  await saveCheckpoint(dir, config, randomWeights(config, 3), tinyTokenizerFileMap(), { dtype: "F32" });
  return dir;
}

/**
 * A run file for `rlvr train` on the trainer tests' tiny model and data (2 prompts x 2 samples,
 * 5 new tokens): the given actor, eval and trainer keys over the shared ones. Returns the file,
 * its folder and the run folder to pass as --out.
 */
export async function tinyRunConfig(keys: {
  actor: object; eval?: object; trainer: object;
  /** config.json keys of the model over the tiny one's. */
  model?: Record<string, unknown>;
}): Promise<{ config: string; dir: string; out: string }> {
  const [model, data, dir] = [await trainerTinyModelDir(3, keys.model), await tinyData(), await trainerTempDir()];
  const config = join(dir, "run.yaml");
  const run = {
    model: { path: model },
    data: { train: data.train, trainBatchSize: 2, maxResponseLength: 5 },
    rollout: { n: 2 },
    actor: keys.actor,
    reward: { workers: 1 },
    eval: { files: { math500: data.test }, limit: 2, maxNewTokens: 3, systemPrompt: "", ...keys.eval },
    trainer: keys.trainer,
  };
  writeFileSync(config, `${JSON.stringify(run, null, 2)}\n`); // JSON is YAML
  return { config, dir, out: join(dir, "run") };
}
