import { Command, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";

import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";
import { engineStepModel, generate, type GenerateProgress } from "@rlvr/sampler";

import { engineOptions, intOption, numberOption, withEngineOptions, withMaxNewTokens, type EngineCliOptions } from "../options.js";

/**
 * Bounds on one `generate` call: every sample is kept in memory until printed, so a call is
 * limited in samples and in total tokens (samples x --max-new-tokens); more samples take several
 * calls with different --seed values.
 */
export const GENERATE_LIMITS = { samples: 100_000, tokens: 50_000_000 } as const;


interface GenerateCliOptions extends EngineCliOptions {
  model: string;
  prompt?: string;
  input?: string;
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
    .option("--prompt <text>", "the user message (or raw text with --no-chat)")
    .option("--input <file>", 'JSONL of prompts instead of --prompt: {"prompt": "..."} or {"messages": [...]} per line (other fields are copied to the output)')
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
      if ((o.prompt === undefined) === (o.input === undefined)) throw new InvalidArgumentError("give either --prompt TEXT or --input FILE (JSONL of prompts)");
      const rows: PromptRow[] = o.input !== undefined ? readPromptRows(o.input) : [{ prompt: o.prompt! }];
      if (rows.length * o.n > GENERATE_LIMITS.samples || rows.length * o.n * o.maxNewTokens > GENERATE_LIMITS.tokens) {
        throw new InvalidArgumentError(
          `${rows.length} prompts x -n ${o.n} (x --max-new-tokens ${o.maxNewTokens}): at most ${GENERATE_LIMITS.samples} samples and ${GENERATE_LIMITS.tokens} tokens per call; split --input or lower -n`,
        );
      }
      const dir = await loadModelDir(o.model);
      const engine = Engine.fromWeights(dir.config, dir.weights!, engineOptions(o));
      const tok = dir.tokenizer;
      const system = o.system ? [{ role: "system", content: o.system }] : [];
      const prompts = rows.map((row) => {
        const messages = row.messages ?? [...system, { role: "user", content: row.prompt! }];
        const ids =
          (o.chat || row.messages) && tok.chatTemplate
            ? tok.encodeChat(messages, { addGenerationPrompt: true, maxLength: dir.config.maxPositionEmbeddings })
            : tok.encode(row.prompt ?? messages.map((m) => m.content).join("\n"));
        return Int32Array.from(ids);
      });
      const samples = await generate(engineStepModel(engine, { maxNewTokens: o.maxNewTokens }), prompts, {
        n: o.n, temperature: o.temperature, topP: o.topP, topK: o.topK, maxNewTokens: o.maxNewTokens, seed: o.seed,
        eosIds: dir.eosTokenIds, ...(o.stop ? { stop: o.stop } : {}),
        decode: (t) => tok.decode(Array.from(t), { skipSpecialTokens: true }),
        ...(process.stderr.isTTY ? { onDecodeStep: ttyProgress() } : {}),
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      for (const s of samples) {
        if (o.json || o.input !== undefined) {
          const { prompt: _p, messages: _m, ...extra } = rows[s.promptIndex]!;
          console.log(JSON.stringify({
            ...extra, ...(o.input !== undefined ? { prompt_index: s.promptIndex } : {}), sample: s.sampleIndex, text: s.text,
            finish_reason: s.finishReason, tokens: Array.from(s.tokens), logprobs: Array.from(s.logprobs),
          }));
        } else {
          if (o.n > 1) console.log(`--- sample ${s.sampleIndex} (${s.finishReason}, ${s.tokens.length} tokens)`);
          console.log(s.text);
        }
      }
    });
}

interface PromptRow {
  prompt?: string;
  messages?: { role: string; content: string }[];
  [key: string]: unknown;
}

/** The prompts of --input: one {"prompt"} or {"messages"} object per line; errors name the file and line. */
function readPromptRows(path: string): PromptRow[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`--input ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const rows: PromptRow[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const row = o as PromptRow;
    const okMessages = Array.isArray(row.messages) && row.messages.every((m) => typeof m?.role === "string" && typeof m?.content === "string");
    if (typeof o !== "object" || o === null || (typeof row.prompt !== "string" && !okMessages)) {
      throw new Error(`${path}:${i + 1}: expected {"prompt": "..."} or {"messages": [{"role": ..., "content": ...}]}`);
    }
    rows.push(row);
  });
  if (rows.length === 0) throw new Error(`--input ${path}: no prompts in the file`);
  return rows;
}

/** A TTY line redrawn after decode steps, at most once a second and at the end: responses done, tokens/s. */
function ttyProgress(): (p: GenerateProgress) => void {
  const t0 = performance.now();
  let last = -Infinity;
  return (p) => {
    const now = performance.now();
    if (p.tokens === 0 || (now - last < 1000 && p.rowsDone < p.rowsTotal)) return;
    last = now;
    const rate = p.tokens > 0 ? `, ${Math.round(p.tokens / Math.max(1e-3, (now - t0) / 1000))} tok/s` : "";
    process.stderr.write(`\r\x1b[Kgenerated ${p.rowsDone}/${p.rowsTotal} responses, ${p.tokens} tokens${rate}`);
  };
}
