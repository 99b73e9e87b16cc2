import { Command, InvalidArgumentError } from "commander";

import type { StorageDtype } from "@rlvr/model";

import { initModel } from "../init/initModel.js";
import { intOption } from "../options.js";

const DTYPES: Record<string, StorageDtype> = { float32: "F32", bfloat16: "BF16", float16: "F16" };

/** `rlvr init`: a random-weight model directory from a config.json (for timing the paper's shapes without the weights). */
export function initCommand(): Command {
  return new Command("init")
    .description(
      "write a model directory with random weights made from a Hugging Face config.json (e.g. Qwen2.5-Math-1.5B's), " +
        "with a byte-level tokenizer that covers the whole vocabulary: runs the paper's shapes without the real weights",
    )
    .requiredOption("--config <config.json>", "the model's config.json")
    .requiredOption("--out <dir>", "the model directory to write (refused if it exists, unless --force)")
    .option("--seed <n>", "seed of the random weights", intOption(0), 0)
    .option("--dtype <dtype>", "storage dtype: float32 | bfloat16 | float16 (default: the config's torch_dtype)", (v: string) => {
      const d = DTYPES[v];
      if (!d) throw new InvalidArgumentError(`expected one of ${Object.keys(DTYPES).join(", ")}`);
      return d;
    })
    .option("--tokenizer <dir>", "copy the tokenizer files of this model directory instead of making one")
    .option("--force", "replace an existing --out directory")
    .action(async (o: { config: string; out: string; seed: number; dtype?: StorageDtype; tokenizer?: string; force?: boolean }) => {
      const result = await initModel({
        config: o.config, out: o.out, seed: o.seed, overwrite: o.force === true,
        ...(o.dtype ? { dtype: o.dtype } : {}), ...(o.tokenizer ? { tokenizer: o.tokenizer } : {}),
        onTensor: (name, done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\rinit: ${done}/${total} tensors (${name})\x1b[K`);
        },
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      const c = result.config;
      process.stdout.write(`${o.out}\n`);
      process.stderr.write(
        `init: ${(result.parameters / 1e9).toFixed(3)}B parameters (${c.numLayers} layers, hidden ${c.hiddenSize}, vocab ${c.vocabSize}), ` +
          `seed ${o.seed}; tokenizer: ${result.tokenizer}\n`,
      );
    });
}
