import { Tensor, ValueError, sampleTokens, tokenLogprobs } from "@rlvr/native";

import { counterUniform } from "./rng.js";
import type { StepModel } from "./stepModel.js";

export type FinishReason = "eos" | "stop" | "length" | "context";

export interface GenerateOptions {
  /** samples per prompt (rows are prompt-major: prompt p, sample k is row p·n + k) */
  n?: number;
  /** 0 = greedy */
  temperature?: number;
  topP?: number;
  topK?: number;
  maxNewTokens: number;
  eosIds?: readonly number[];
  /**
   * Benchmarks only: per sample row (prompt-major, prompts.length × n), the length at which the
   * sample ends with finish reason "eos" whatever it generated, EOS ids ignored (a length above
   * maxNewTokens ends at maxNewTokens, finish "length"). Times a rollout of given lengths on any
   * model, random weights included.
   */
  forcedLengths?: Int32Array;
  /** stop strings, matched on the decoded response text (needs `decode`) */
  stop?: readonly string[];
  seed?: number;
  /**
   * temperature of the returned log-probs; defaults to the sampling temperature
   * (1 for greedy), matching the trainer's τ so that old log-probs need no recompute
   */
  logprobTemperature?: number;
  /** token ids -> text, for `text` and stop strings */
  decode?: (ids: Int32Array) => string;
  /** rows per model session (bounds KV-cache memory); with a native rollout, its slots */
  maxBatch?: number;
  /** After each model session (maxBatch rows): rows finished so far of the total. */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** After the prefill and after each decode step (a finer grain than onProgress). */
  onDecodeStep?: (p: GenerateProgress) => void;
  /**
   * Checked after the prefill and after each decode step (the model call in flight completes):
   * once aborted, the session ends (model.end) and generate rejects with signal.reason.
   */
  signal?: AbortSignal;
}

/** Where a generate() call stands. */
export interface GenerateProgress {
  /** Samples finished (EOS, stop string, length or context). */
  rowsDone: number;
  rowsTotal: number;
  /** Tokens generated so far, over every sample. */
  tokens: number;
}

export interface Sample {
  promptIndex: number;
  sampleIndex: number;
  tokens: Int32Array;
  /** log p(token) at logprobTemperature, from the same fused kernel the trainer uses */
  logprobs: Float32Array;
  text?: string;
  finishReason: FinishReason;
}

function checkOptions(o: GenerateOptions, vocab: number): void {
  const bad = (field: string, msg: string) => {
    throw new ValueError(`${field}: ${msg}`, "ERR_RLVR_VALUE", field);
  };
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) bad("maxNewTokens", `must be a positive integer, got ${o.maxNewTokens}`);
  if (o.n !== undefined && (!Number.isInteger(o.n) || o.n < 1)) bad("n", `must be a positive integer, got ${o.n}`);
  if (o.maxBatch !== undefined && (!Number.isInteger(o.maxBatch) || o.maxBatch < 1)) bad("maxBatch", `must be a positive integer, got ${o.maxBatch}`);
  for (const id of o.eosIds ?? []) if (!Number.isInteger(id) || id < 0 || id >= vocab) bad("eosIds", `id ${id} is outside the vocabulary [0, ${vocab})`);
  if (o.stop?.length && !o.decode) bad("stop", "stop strings need a decode function");
  if (o.stop?.some((s) => s.length === 0)) bad("stop", "stop strings must be non-empty");
  if (o.forcedLengths?.some((x) => x < 1)) bad("forcedLengths", "lengths must be >= 1");
}

/**
 * Batched generation. Each sample's randomness is counterUniform(seed, row, step),
 * so results do not depend on maxBatch or on which other rows are still running.
 * Bad options reject (ValueError naming the field) before the model is called.
 * A model with `rollout` (the engine's native rollout) runs the whole batch in one native call
 * when no stop strings are given: the same samples, bit for bit; else the begin / step loop below.
 */
export async function generate(model: StepModel, prompts: readonly Int32Array[], opts: GenerateOptions): Promise<Sample[]> {
  checkOptions(opts, model.vocabSize);
  const n = opts.n ?? 1;
  const temperature = opts.temperature ?? 1;
  const lpTemp = opts.logprobTemperature ?? (temperature > 0 ? temperature : 1);
  const eos = new Set(opts.eosIds ?? []);
  const seed = opts.seed ?? 0;
  const total = prompts.length * n;
  if (opts.forcedLengths && opts.forcedLengths.length !== total) {
    throw new ValueError(`forcedLengths: expected one length per sample row (${total}), got ${opts.forcedLengths.length}`, "ERR_RLVR_VALUE", "forcedLengths");
  }
  const maxBatch = opts.maxBatch ?? 64;
  if (model.rollout && !opts.stop?.length && total > 0) return generateNative(model, model.rollout.bind(model), prompts, opts, n, lpTemp, maxBatch);
  const out: Sample[] = [];
  const progress = { rowsDone: 0, rowsTotal: total, tokens: 0 };
  for (let start = 0; start < total; start += maxBatch) {
    const rows = Array.from({ length: Math.min(maxBatch, total - start) }, (_, i) => start + i);
    out.push(...(await generateChunk(model, prompts, rows, n, { ...opts, temperature }, lpTemp, eos, seed, progress)));
    opts.onProgress?.(start + rows.length, total);
  }
  return out;
}

async function generateChunk(
  model: StepModel, prompts: readonly Int32Array[], rows: number[], n: number,
  opts: GenerateOptions & { temperature: number }, lpTemp: number, eos: Set<number>, seed: number,
  progress: GenerateProgress,
): Promise<Sample[]> {
  const chunkPrompts = rows.map((r) => prompts[Math.floor(r / n)]!);
  for (const [i, p] of chunkPrompts.entries()) {
    if (p.length + 1 > model.maxSequenceLength) {
      throw new ValueError(`prompts: prompt ${Math.floor(rows[i]! / n)} has ${p.length} tokens; the model's context is ${model.maxSequenceLength}`, "ERR_RLVR_VALUE", "prompts");
    }
  }
  const toks: number[][] = rows.map(() => []);
  const lps: number[][] = rows.map(() => []);
  const finish: (FinishReason | undefined)[] = rows.map(() => undefined);
  const texts: (string | undefined)[] = rows.map(() => undefined);
  let active = rows.map((_, i) => i);
  opts.signal?.throwIfAborted();
  let logits = await model.begin(chunkPrompts);
  try {
    opts.onDecodeStep?.({ ...progress });
    opts.signal?.throwIfAborted();
    for (let t = 0; active.length > 0; t++) {
      const u = Float32Array.from(active, (i) => counterUniform(seed, rows[i]!, t));
      const next = sampleTokens(logits, Tensor.from(u), opts).toArray() as Int32Array;
      const logp = tokenLogprobs(logits, Tensor.from(next), { temperature: lpTemp }).logp.toArray() as Float32Array;
      const still: number[] = [];
      active.forEach((i, k) => {
        const tok = next[k]!;
        toks[i]!.push(tok);
        lps[i]!.push(logp[k]!);
        finish[i] = finishReason(tok, i);
        if (!finish[i]) still.push(i);
      });
      progress.tokens += active.length;
      progress.rowsDone += active.length - still.length;
      active = still;
      if (active.length === 0) {
        opts.onDecodeStep?.({ ...progress });
        break;
      }
      logits = await model.step(Int32Array.from(active), Int32Array.from(active, (i) => toks[i]!.at(-1)!));
      opts.onDecodeStep?.({ ...progress });
      opts.signal?.throwIfAborted();
    }
  } finally {
    model.end();
  }

  function finishReason(tok: number, i: number): FinishReason | undefined {
    const forced = opts.forcedLengths?.[rows[i]!];
    if (forced !== undefined) {
      if (toks[i]!.length >= forced) return "eos";
    } else if (eos.has(tok)) {
      return "eos";
    }
    if (opts.stop?.length) {
      const text = opts.decode!(Int32Array.from(toks[i]!));
      const at = Math.min(...opts.stop.map((s) => (text.includes(s) ? text.indexOf(s) : Infinity)));
      if (at !== Infinity) {
        texts[i] = text.slice(0, at);
        return "stop";
      }
    }
    if (toks[i]!.length >= opts.maxNewTokens) return "length";
    if (chunkPrompts[i]!.length + toks[i]!.length >= model.maxSequenceLength) return "context";
    return undefined;
  }

  return rows.map((r, i) => {
    const tokens = Int32Array.from(toks[i]!);
    const s: Sample = { promptIndex: Math.floor(r / n), sampleIndex: r % n, tokens, logprobs: Float32Array.from(lps[i]!), finishReason: finish[i]! };
    if (opts.decode) s.text = texts[i] ?? opts.decode(tokens);
    return s;
  });
}

/**
 * The native rollout: one model call for every row. Progress arrives from the native loop
 * (asynchronously; reports after the call settled are dropped) and a last report with the exact
 * totals follows the result; onProgress fires once, at the end (there are no sessions).
 */
async function generateNative(
  model: StepModel, rollout: NonNullable<StepModel["rollout"]>, prompts: readonly Int32Array[], opts: GenerateOptions,
  n: number, lpTemp: number, slots: number,
): Promise<Sample[]> {
  prompts.forEach((p, i) => {
    if (p.length + 1 > model.maxSequenceLength) {
      throw new ValueError(`prompts: prompt ${i} has ${p.length} tokens; the model's context is ${model.maxSequenceLength}`, "ERR_RLVR_VALUE", "prompts");
    }
  });
  const total = prompts.length * n;
  let settled = false;
  const report = (rowsDone: number, tokens: number) => opts.onDecodeStep?.({ rowsDone, rowsTotal: total, tokens });
  opts.signal?.throwIfAborted();
  report(0, 0);
  let r: Awaited<ReturnType<typeof rollout>>;
  try {
    r = await rollout({
      prompts, n, temperature: opts.temperature ?? 1, topP: opts.topP ?? 1, topK: opts.topK ?? 0, maxNewTokens: opts.maxNewTokens,
      eosIds: opts.eosIds ?? [], seed: opts.seed ?? 0, logprobTemperature: lpTemp, slots,
      ...(opts.forcedLengths ? { forcedLengths: opts.forcedLengths } : {}),
      onProgress: (p) => { if (!settled) report(p.rowsDone, p.tokens); },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw e;
  } finally {
    settled = true;
  }
  report(total, r.tokens.length);
  opts.onProgress?.(total, total);
  return Array.from({ length: total }, (_, row) => {
    const a = r.offsets[row]!, b = r.offsets[row + 1]!;
    const tokens = r.tokens.slice(a, b);
    const s: Sample = { promptIndex: Math.floor(row / n), sampleIndex: row % n, tokens, logprobs: r.logprobs.slice(a, b), finishReason: r.finish[row]! };
    if (opts.decode) s.text = opts.decode(tokens);
    return s;
  });
}
