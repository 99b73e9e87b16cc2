// `rlvr pretrain`: pretrains the math world's tiny Qwen2 base model on the rlvr engine and
// saves it in Hugging Face layout (see packages/mathworld/README.md).
import { cpus } from "node:os";

import { Command } from "commander";

import { DEFAULT_FORMAT_NOISE, DEFAULT_SEED, DEFAULT_SHAPE, NO_SLIPS, pretrain } from "@rlvr/mathworld";

import { intOption, numberOption } from "../options.js";


interface PretrainCliOptions {
  out: string;
  seed: number;
  dataSeed: number;
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  evalEvery: number;
  targetAccuracy: number;
  evalSize?: number;
  slipRate: number;
  recheckRate: number;
  excludeVal?: boolean;
  formatNoise: number;
  fractionFormatNoise: number;
  systemPromptRate: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  overwrite?: boolean;
}

export function pretrainCommand(): Command {
  return new Command("pretrain")
    .description("pretrain the math world's tiny Qwen2 base model (CPU engine) and save it in Hugging Face layout")
    .requiredOption("--out <dir>", "checkpoint directory to write")
    .option("--seed <s>", "seed of initialization, data order and format noise", intOption(0), 1)
    .option("--data-seed <s>", "seed of the train/test splits (as `rlvr mathworld export`)", intOption(0), DEFAULT_SEED)
    .option("--steps <n>", "most optimizer steps (the cosine learning-rate schedule ends here)", intOption(1), 2000)
    .option("--batch-size <n>", "sequences per step", intOption(1), 32)
    .option("--lr <x>", "peak learning rate (linear warm-up, then cosine decay to 0.1x at --steps)", numberOption(0, 1), 3e-3)
    .option("--warmup <n>", "warm-up steps", intOption(1), 50)
    .option("--eval-every <n>", "greedy test accuracy every n steps", intOption(1), 50)
    .option("--target-accuracy <x>", "stop at the first evaluation with test accuracy >= x (1: run all --steps)", numberOption(0, 1), 0.2)
    .option("--eval-size <n>", "test problems evaluated (default: all)", intOption(1))
    .option("--format-noise <p>", "share of solutions written without \\boxed (add_sub, mul, linear)", numberOption(0, 1), DEFAULT_FORMAT_NOISE.add_sub)
    .option("--fraction-format-noise <p>", "the same for the fraction family", numberOption(0, 1), DEFAULT_FORMAT_NOISE.fraction)
    .option("--slip-rate <p>", "share of carry/borrow steps written with the carry (borrow) forgotten", numberOption(0, 1), NO_SLIPS.slipRate)
    .option("--recheck-rate <p>", "share of carry/borrow steps followed by \"Recheck: <right step>.\"", numberOption(0, 1), NO_SLIPS.recheckRate)
    .option("--exclude-val", "keep the validation split's questions out of pretraining too (off: the committed base predates the split)")
    .option("--system-prompt-rate <p>", "share of chats with the evaluation system prompt", numberOption(0, 1), 0.2)
    .option("--hidden <n>", "hidden size", intOption(2), DEFAULT_SHAPE.hiddenSize)
    .option("--intermediate <n>", "MLP size", intOption(1), DEFAULT_SHAPE.intermediateSize)
    .option("--layers <n>", "decoder layers", intOption(1), DEFAULT_SHAPE.numLayers)
    .option("--heads <n>", "attention heads", intOption(1), DEFAULT_SHAPE.numHeads)
    .option("--kv-heads <n>", "key/value heads", intOption(1), DEFAULT_SHAPE.numKvHeads)
    .option("--overwrite", "replace an existing checkpoint at --out")
    .action(async (o: PretrainCliOptions) => {
      const f = o.formatNoise;
      await pretrain({
        out: o.out,
        seed: o.seed,
        dataSeed: o.dataSeed,
        maxSteps: o.steps,
        batchSize: o.batchSize,
        lr: o.lr,
        warmupSteps: o.warmup,
        evalEvery: o.evalEvery,
        targetAccuracy: o.targetAccuracy,
        excludeValidation: o.excludeVal ?? false,
        slips: { slipRate: o.slipRate, recheckRate: o.recheckRate },
        ...(o.evalSize === undefined ? {} : { evalSize: o.evalSize }),
        formatNoise: { add_sub: f, mul: f, linear: f, fraction: o.fractionFormatNoise },
        systemPromptRate: o.systemPromptRate,
        shape: {
          hiddenSize: o.hidden,
          intermediateSize: o.intermediate,
          numLayers: o.layers,
          numHeads: o.heads,
          numKvHeads: o.kvHeads,
          maxPositionEmbeddings: DEFAULT_SHAPE.maxPositionEmbeddings,
        },
        overwrite: o.overwrite ?? false,
        provenance: {
          command: `rlvr ${process.argv.slice(2).join(" ")}`,
          rlvrNumThreads: process.env.RLVR_NUM_THREADS ?? null,
          cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
          node: process.version,
          date: new Date().toISOString(),
        },
      });
    });
}
