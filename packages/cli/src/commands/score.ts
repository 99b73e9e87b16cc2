import { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

import { Engine } from "@rlvr/engine";

import { engineOptions, intOption, numberOption, withEngineOptions, type EngineCliOptions } from "../options.js";

export interface ScoreLine {
  prompt_ids: number[];
  response_ids: number[];
  [key: string]: unknown;
}

function parseLine(text: string, lineNo: number, vocab: number, maxLen: number): ScoreLine {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new Error(`line ${lineNo}: not valid JSON (${(e as Error).message})`);
  }
  const o = obj as Record<string, unknown>;
  for (const key of ["prompt_ids", "response_ids"] as const) {
    const a = o[key];
    if (!Array.isArray(a) || !a.every((x) => Number.isInteger(x))) throw new Error(`line ${lineNo}: "${key}" must be an array of integers`);
    const bad = a.find((x: number) => x < 0 || x >= vocab);
    if (bad !== undefined) throw new Error(`line ${lineNo}: "${key}" has token id ${bad} outside the vocabulary [0, ${vocab})`);
  }
  const p = o.prompt_ids as number[], r = o.response_ids as number[];
  if (p.length === 0) throw new Error(`line ${lineNo}: "prompt_ids" must not be empty (the first response token is predicted from the prompt)`);
  if (p.length + r.length > maxLen) throw new Error(`line ${lineNo}: ${p.length + r.length} tokens exceed the model's context of ${maxLen}`);
  return o as ScoreLine;
}

/** Scores a batch of lines: per response token, log p and entropy at `temperature` (natural log). */
export function scoreBatch(engine: Engine, lines: ScoreLine[], temperature = 1): { logprobs: number[]; entropies: number[] }[] {
  const len = Math.max(...lines.map((l) => l.prompt_ids.length + l.response_ids.length));
  const b = lines.length;
  const ids = new Int32Array(b * len), mask = new Float32Array(b * len), targets = new Int32Array(b * len), scoreMask = new Float32Array(b * len);
  lines.forEach((l, r) => {
    const seq = [...l.prompt_ids, ...l.response_ids];
    const o = r * len;
    ids.set(seq, o);
    mask.fill(1, o, o + seq.length);
    // logits at t predict token t + 1: response token j is read at position P - 1 + j
    for (let t = 0; t + 1 < seq.length; t++) targets[o + t] = seq[t + 1]!;
    scoreMask.fill(1, o + l.prompt_ids.length - 1, o + seq.length - 1);
  });
  const { logp, entropy } = engine.score({ batch: b, length: len, inputIds: ids, attentionMask: mask, targets, scoreMask, temperature });
  return lines.map((l, r) => {
    const start = r * len + l.prompt_ids.length - 1, end = start + l.response_ids.length;
    return { logprobs: Array.from(logp.subarray(start, end)), entropies: Array.from(entropy.subarray(start, end)) };
  });
}


export function scoreCommand(): Command {
  return withEngineOptions(new Command("score"))
    .description("per-token log-probs and entropies of given responses (JSONL with prompt_ids and response_ids)")
    .requiredOption("--model <dir>", "Hugging Face model directory (config.json, safetensors, tokenizer)")
    .requiredOption("--input <file>", "JSONL: one {\"prompt_ids\": [...], \"response_ids\": [...]} per line")
    .option("--output <file>", "write JSONL here (default: stdout)")
    .option("--temperature <t>", "divide logits by t before the log-softmax", numberOption(0, Number.MAX_VALUE, true), 1)
    .option("--batch-size <n>", "sequences per forward pass", intOption(1), 8)
    .action(async (opts: EngineCliOptions & { model: string; input: string; output?: string; temperature: number; batchSize: number }) => {
      const engine = await Engine.fromModelDir(opts.model, engineOptions(opts));
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const rl = createInterface({ input: createReadStream(opts.input), crlfDelay: Infinity });
      let lineNo = 0;
      let batch: ScoreLine[] = [];
      const flush = () => {
        if (batch.length === 0) return;
        scoreBatch(engine, batch, opts.temperature).forEach((s, i) => out.write(JSON.stringify({ ...batch[i], ...s }) + "\n"));
        batch = [];
      };
      for await (const text of rl) {
        lineNo++;
        if (text.trim() === "") continue;
        batch.push(parseLine(text, lineNo, engine.config.vocabSize, engine.config.maxPositionEmbeddings));
        if (batch.length === opts.batchSize) flush();
      }
      flush();
      if (out !== process.stdout) await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? rej(e) : res())));
    });
}
