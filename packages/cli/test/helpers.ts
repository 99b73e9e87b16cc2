// Test fixtures of the CLI's tests.
import { join } from "node:path";

import { saveCheckpoint } from "@rlvr/model";

import { randomWeights, tempDir, tinyQwen2, tinyTokenizerFileMap } from "../../model/src/testing/fixtures.js";

/** A random tiny Qwen2 model folder (f32, byte-level tokenizer with the Qwen chat template). */
export async function tinyModelDir(configOverrides: Record<string, unknown> = {}): Promise<string> {
  const dir = join(await tempDir(), "model");
  const config = tinyQwen2(configOverrides);
  await saveCheckpoint(dir, config, randomWeights(config, 3), tinyTokenizerFileMap(), { dtype: "F32" });
  return dir;
}
