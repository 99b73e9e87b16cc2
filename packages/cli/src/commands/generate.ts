import { Command, InvalidArgumentError } from "commander";

import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";
import { engineStepModel, generate } from "@rlvr/sampler";

import { engineOptions, intOption, numberOption, withEngineOptions, withMaxNewTokens, type EngineCliOptions } from "../options.js";

/**
 * Bounds on one `generate` call: every sample is kept in memory until printed, so a call is
 * limited in samples and in total tokens (samples x --max-new-tokens); more samples take several
 * calls with different --seed values.
 */
export const GENERATE_LIMITS = { samples: 100_000, tokens: 50_000_000 } as const;


interface GenerateCliOptions extends EngineCliOptions {
  model: string;
  prompt: string;
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number;
  seed: number;
  chat: boolean;
  system?: string;
  stop?: string[];
  json?: boolean;
}

export function generateCommand(): Command {
  return withMaxNewTokens(withEngineOptions(new Command("generate")), "new tokens per sample", 256)
    .description("sample responses from a model (KV-cache decoding on the rlvr engine)")
    .requiredOption("--model <dir>", "Hugging Face model directory")
    .requiredOption("--prompt <text>", "the user message (or raw text with --no-chat)")
    .option("-n, --n <n>", `samples (at most ${GENERATE_LIMITS.samples}, and -n x --max-new-tokens at most ${GENERATE_LIMITS.tokens})`, intOption(1), 1)
    .option("--temperature <t>", "0 = greedy", numberOption(0, 100), 0.6)
    .option("--top-p <p>", "nucleus mass", numberOption(0, 1, true), 1)
    .option("--top-k <k>", "0 = off", intOption(0), 0)
    .option("--seed <s>", "sampling seed", intOption(0), 0)
    .option("--system <text>", "system message for the chat template")
    .option("--stop <text...>", "stop strings")
    .option("--no-chat", "use the prompt as raw text instead of the chat template")
    .option("--json", "print one JSON object per sample (tokens, logprobs, finish reason)")
    .action(async (o: GenerateCliOptions) => {
      if (o.n > GENERATE_LIMITS.samples) {
        throw new InvalidArgumentError(`-n ${o.n}: at most ${GENERATE_LIMITS.samples} samples per call; run several calls with different --seed values for more`);
      }
      if (o.n * o.maxNewTokens > GENERATE_LIMITS.tokens) {
        throw new InvalidArgumentError(
          `-n ${o.n} x --max-new-tokens ${o.maxNewTokens} = ${o.n * o.maxNewTokens} tokens: at most ${GENERATE_LIMITS.tokens} per call; lower -n or --max-new-tokens (or split the work over several --seed values)`,
        );
      }
      const dir = await loadModelDir(o.model);
      const engine = Engine.fromWeights(dir.config, dir.weights!, engineOptions(o));
      const tok = dir.tokenizer;
      const ids =
        o.chat && tok.chatTemplate
          ? tok.encodeChat([...(o.system ? [{ role: "system", content: o.system }] : []), { role: "user", content: o.prompt }], { addGenerationPrompt: true, maxLength: dir.config.maxPositionEmbeddings })
          : tok.encode(o.prompt);
      const samples = generate(engineStepModel(engine, { maxNewTokens: o.maxNewTokens }), [Int32Array.from(ids)], {
        n: o.n, temperature: o.temperature, topP: o.topP, topK: o.topK, maxNewTokens: o.maxNewTokens, seed: o.seed,
        eosIds: dir.eosTokenIds, ...(o.stop ? { stop: o.stop } : {}),
        decode: (t) => tok.decode(Array.from(t), { skipSpecialTokens: true }),
        onProgress: (done, total) => process.stderr.isTTY && process.stderr.write(`\rgenerated ${done}/${total}`),
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      for (const s of samples) {
        if (o.json) {
          console.log(JSON.stringify({ sample: s.sampleIndex, text: s.text, finish_reason: s.finishReason, tokens: Array.from(s.tokens), logprobs: Array.from(s.logprobs) }));
        } else {
          if (o.n > 1) console.log(`--- sample ${s.sampleIndex} (${s.finishReason}, ${s.tokens.length} tokens)`);
          console.log(s.text);
        }
      }
    });
}
