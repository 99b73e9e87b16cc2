import { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

import { Engine } from "@rlvr/engine";
import { loadWeights, ModelTokenizer, openModelTensors, readModelConfig } from "@rlvr/model";

import { engineOptions, intOption, numberOption, withEngineOptions, type EngineCliOptions } from "../options.js";

export interface ScoreLine {
  prompt_ids: number[];
  response_ids: number[];
  [key: string]: unknown;
}

/** Turns text into ids for lines that give `prompt` (or chat `messages`) and `response` as text. */
export interface TextEncoder {
  encode(text: string): number[];
  encodeChat(messages: { role: string; content: string }[]): number[];
}

function parseJson(text: string, lineNo: number): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new Error(`line ${lineNo}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new Error(`line ${lineNo}: expected a JSON object`);
  return obj as Record<string, unknown>;
}

/** True when a line gives text (prompt / messages and response) rather than token ids. */
export const isTextLine = (o: Record<string, unknown>) => o.prompt_ids === undefined && o.response_ids === undefined;

/**
 * One input line as ids: {"prompt_ids", "response_ids"} as given, or {"prompt" | "messages",
 * "response"} encoded (the prompt raw or through the chat template with the assistant header;
 * the response on its own, as generation produces it).
 */
export function parseLine(text: string, lineNo: number, vocab: number, maxLen: number, encoder?: () => Promise<TextEncoder> | TextEncoder): Promise<ScoreLine> | ScoreLine {
  const o = parseJson(text, lineNo);
  if (isTextLine(o)) {
    if (!encoder) throw new Error(`line ${lineNo}: give "prompt_ids" and "response_ids", or "prompt" (or "messages") and "response" as text`);
    return (async () => {
      const enc = await encoder();
      const { prompt, messages, response } = o;
      if (typeof response !== "string") throw new Error(`line ${lineNo}: "response" must be a string (or give "prompt_ids" and "response_ids")`);
      let promptIds: number[];
      if (Array.isArray(messages)) {
        if (!messages.every((m) => typeof m === "object" && m !== null && typeof (m as { role?: unknown }).role === "string" && typeof (m as { content?: unknown }).content === "string")) {
          throw new Error(`line ${lineNo}: "messages" must be [{"role": ..., "content": ...}, ...]`);
        }
        promptIds = enc.encodeChat(messages as { role: string; content: string }[]);
      } else if (typeof prompt === "string") promptIds = enc.encode(prompt);
      else throw new Error(`line ${lineNo}: give "prompt" (text) or "messages" (a chat) with the "response"`);
      return checkIds({ ...o, prompt_ids: promptIds, response_ids: enc.encode(response) }, lineNo, vocab, maxLen);
    })();
  }
  return checkIds(o, lineNo, vocab, maxLen);
}

function checkIds(o: Record<string, unknown>, lineNo: number, vocab: number, maxLen: number): ScoreLine {
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
export async function scoreBatch(engine: Engine, lines: ScoreLine[], temperature = 1): Promise<{ logprobs: number[]; entropies: number[] }[]> {
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
  const { logp, entropy } = await engine.score({ batch: b, length: len, inputIds: ids, attentionMask: mask, targets, scoreMask, temperature });
  return lines.map((l, r) => {
    const start = r * len + l.prompt_ids.length - 1, end = start + l.response_ids.length;
    return { logprobs: Array.from(logp.subarray(start, end)), entropies: Array.from(entropy.subarray(start, end)) };
  });
}


export function scoreCommand(): Command {
  return withEngineOptions(new Command("score"))
    .description("per-token log-probs and entropies of given responses (JSONL: token ids, or prompt / messages and response as text)")
    .requiredOption("--model <dir>", "Hugging Face model directory (config.json, safetensors; tokenizer files only for text lines)")
    .requiredOption("--input <file>", 'JSONL: {"prompt_ids": [...], "response_ids": [...]} or {"prompt" | "messages": ..., "response": "..."} per line')
    .option("--output <file>", "write JSONL here (default: stdout)")
    .option("--temperature <t>", "divide logits by t before the log-softmax", numberOption(0, Number.MAX_VALUE, true), 1)
    .option("--batch-size <n>", "sequences per forward pass", intOption(1), 8)
    .action(async (opts: EngineCliOptions & { model: string; input: string; output?: string; temperature: number; batchSize: number }) => {
      // the weights alone: a folder without tokenizer files scores token ids
      const { config } = await readModelConfig(opts.model);
      const source = await openModelTensors(opts.model);
      let weights;
      try {
        weights = await loadWeights(source, config);
      } finally {
        await source.close();
      }
      const engine = Engine.fromWeights(config, weights, { ...engineOptions(opts), modelDir: opts.model });
      let tokenizer: Promise<TextEncoder> | null = null;
      const encoder = () =>
        (tokenizer ??= ModelTokenizer.load(opts.model, { contextLength: config.maxPositionEmbeddings }).then(
          (tok) => ({
            encode: (t: string) => tok.encode(t),
            encodeChat: (m: { role: string; content: string }[]) => tok.encodeChat(m, { addGenerationPrompt: true, maxLength: config.maxPositionEmbeddings }),
          }),
          (e: unknown) => {
            throw new Error(`${opts.input} gives text, which needs the model's tokenizer: ${(e as Error).message} (or give prompt_ids and response_ids)`);
          },
        ));
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const rl = createInterface({ input: createReadStream(opts.input), crlfDelay: Infinity });
      let lineNo = 0;
      let batch: ScoreLine[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        (await scoreBatch(engine, batch, opts.temperature)).forEach((s, i) => out.write(JSON.stringify({ ...batch[i], ...s }) + "\n"));
        batch = [];
      };
      for await (const text of rl) {
        lineNo++;
        if (text.trim() === "") continue;
        batch.push(await parseLine(text, lineNo, engine.config.vocabSize, engine.config.maxPositionEmbeddings, encoder));
        if (batch.length === opts.batchSize) await flush();
      }
      await flush();
      if (out !== process.stdout) await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? rej(e) : res())));
    });
}
