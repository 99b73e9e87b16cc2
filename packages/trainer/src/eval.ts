// Evaluation on test benchmarks (spec section 7): the qwen25-math-cot prompt, greedy pass@1 or
// avg@k at the benchmark's protocol temperature, graded by the verifier.
import { existsSync, readFileSync } from "node:fs";

import { DataError, EVAL_FIELDS, EVAL_PROTOCOL, jsonlLines, loadEvalBenchmark, type EvalExample } from "@rlvr/data";
import type { Engine } from "@rlvr/engine";
import type { ModelTokenizer } from "@rlvr/model";
import { engineStepModel, generate, type FinishReason, type GenerateProgress } from "@rlvr/sampler";
import type { GraderName, VerifierPool } from "@rlvr/verifier";

export interface EvalProtocol {
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** Samples per problem; the score is the mean over them (avg@k; 1 = pass@1). */
  samples: number;
}

/** Greedy pass@1: the protocol of MATH500, Minerva, OlympiadBench and of custom files. */
export const GREEDY_PROTOCOL: Readonly<EvalProtocol> = { temperature: 0, topP: 1, samples: 1 };

export interface EvalSet extends EvalProtocol {
  name: string;
  examples: EvalExample[];
  /** The file the examples came from, when known. */
  file?: string;
}

/** The protocol of a benchmark: the paper's for the six (EVAL_PROTOCOL), else greedy pass@1. */
export function defaultProtocol(name: string): EvalProtocol {
  return { ...(EVAL_PROTOCOL[name as keyof typeof EVAL_PROTOCOL] ?? GREEDY_PROTOCOL) };
}

type Row = Record<string, unknown>;

function str(v: unknown): string | null {
  if (typeof v === "string") return v.trim() === "" ? null : v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

/**
 * Reads a custom benchmark JSONL. Each row is either {problem, answer} (also accepted:
 * "question" for the problem; an answer that is a number, or a list joined with ", ") with an
 * optional "id", or a verl row (the last user message of "prompt" is the problem,
 * reward_model.ground_truth the answer, extra_info.index the id), as `rlvr mathworld export`
 * writes. Errors name the file, the line and the field.
 */
export function loadEvalFile(name: string, path: string): EvalExample[] {
  if (!existsSync(path)) throw new DataError(`${name}: benchmark file ${path} not found (check the path given with --file ${name}=PATH)`);
  const rows = jsonlLines(readFileSync(path, "utf8"));
  if (rows.length === 0) throw new DataError(`${name}: ${path} has no rows (expected one JSON object per line with "problem" and "answer")`);
  return rows.map(({ line, text }, i) => {
    const where = `${path}:${line}`;
    let obj: Row;
    try {
      obj = JSON.parse(text) as Row;
    } catch (e) {
      throw new DataError(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new DataError(`${where}: expected a JSON object`);
    let problem: string | null;
    let answer: string | null;
    let id: unknown = obj.id ?? obj.unique_id;
    if (Array.isArray(obj.prompt) && obj.reward_model !== undefined) {
      const users = (obj.prompt as Row[]).filter((m) => m && m.role === "user");
      problem = str(users.at(-1)?.content);
      answer = str((obj.reward_model as Row | null)?.ground_truth);
      id ??= (obj.extra_info as Row | undefined)?.index;
      if (problem === null) throw new DataError(`${where}: verl row without a user message in "prompt" (the ${name} problem)`);
      if (answer === null) throw new DataError(`${where}: verl row without "reward_model.ground_truth" (the ${name} gold answer)`);
    } else {
      problem = str(obj.problem) ?? str(obj.question);
      const raw = obj.answer;
      answer = Array.isArray(raw) ? (raw.length > 0 ? raw.map(String).join(", ") : null) : str(raw);
      if (problem === null) throw new DataError(`${where}: missing field "problem" (the ${name} problem statement; "question" is accepted too)`);
      if (answer === null) throw new DataError(`${where}: missing field "answer" (the ${name} gold answer)`);
    }
    return { id: id === undefined || id === null ? String(i) : String(id), problem, answer, source: name };
  });
}

/**
 * One benchmark from a file: the six known names keep their own field mapping
 * (EVAL_FIELDS); any other name is read by loadEvalFile.
 */
export function loadBenchmarkFile(name: string, file: string): EvalExample[] {
  if (!existsSync(file)) throw new DataError(`${name}: benchmark file ${file} not found (check the path given with --file ${name}=PATH)`);
  return name in EVAL_FIELDS ? loadEvalBenchmark(name, file) : loadEvalFile(name, file);
}

/** Loads the configured benchmarks (files override the shared folder), capped at `limit` examples each. */
export function loadEvalSets(benchmarks: readonly string[], files: Record<string, string>, limit: number | null): EvalSet[] {
  return benchmarks.map((name) => {
    const file = files[name];
    const all = file === undefined ? loadEvalBenchmark(name) : loadBenchmarkFile(name, file);
    return { name, examples: limit === null ? all : all.slice(0, limit), ...defaultProtocol(name), ...(file ? { file } : {}) };
  });
}

export interface EvalContext {
  engine: Engine;
  tokenizer: ModelTokenizer;
  eosIds: readonly number[];
  systemPrompt: string;
  maxNewTokens: number;
  maxBatch: number;
  seed: number;
  pool: VerifierPool;
  timeoutMs: number;
  /** How answers are graded (default "qwen-math", the protocol behind the paper's numbers). */
  grader?: GraderName;
}

export interface EvalSampleResult {
  text: string;
  /** Response length in tokens. */
  tokens: number;
  finishReason: FinishReason;
  correct: boolean;
  /** The answer the verifier read from the response; null when there is none. */
  extracted: string | null;
}

export interface EvalProblemResult {
  example: EvalExample;
  promptTokens: number;
  /** True when the prompt does not fit the model's context: no samples, counted as wrong. */
  skipped: boolean;
  samples: EvalSampleResult[];
}

export interface EvalSetResult {
  name: string;
  protocol: EvalProtocol;
  /** Mean over examples × samples, in [0, 1]. */
  accuracy: number;
  correct: number;
  total: number;
  problems: EvalProblemResult[];
  seconds: number;
}

export interface EvalSetHooks {
  /** Generation progress: rows (problem × sample) done of the set's total. */
  onGenerate?: (rowsDone: number, rowsTotal: number) => void;
  /** After each decode step: the set's rows done and tokens so far; seconds since the set started. */
  onDecodeStep?: (p: GenerateProgress, seconds: number) => void;
}

/** Generates and grades one benchmark, keeping every response. */
export async function evaluateSet(ctx: EvalContext, set: EvalSet, hooks: EvalSetHooks = {}): Promise<EvalSetResult> {
  const t0 = performance.now();
  const context = ctx.engine.config.maxPositionEmbeddings;
  const problems: EvalProblemResult[] = [];
  const prompts: Int32Array[] = [];
  const fitting: EvalProblemResult[] = [];
  for (const ex of set.examples) {
    const messages = [...(ctx.systemPrompt ? [{ role: "system", content: ctx.systemPrompt }] : []), { role: "user", content: ex.problem }];
    const ids = ctx.tokenizer.encodeChat(messages, { addGenerationPrompt: true, maxLength: Number.MAX_SAFE_INTEGER });
    const p: EvalProblemResult = { example: ex, promptTokens: ids.length, skipped: ids.length + 1 > context, samples: [] };
    problems.push(p);
    if (p.skipped) continue;
    prompts.push(Int32Array.from(ids));
    fitting.push(p);
  }
  let correct = 0;
  if (prompts.length > 0) {
    const samples = await generate(engineStepModel(ctx.engine, { maxNewTokens: ctx.maxNewTokens }), prompts, {
      n: set.samples, temperature: set.temperature, topP: set.topP, maxNewTokens: ctx.maxNewTokens, seed: ctx.seed,
      eosIds: ctx.eosIds, maxBatch: ctx.maxBatch, decode: (t) => ctx.tokenizer.decode(Array.from(t), { skipSpecialTokens: true }),
      ...(hooks.onGenerate ? { onProgress: hooks.onGenerate } : {}),
      ...(hooks.onDecodeStep ? { onDecodeStep: (p: GenerateProgress) => hooks.onDecodeStep!(p, (performance.now() - t0) / 1000) } : {}),
    });
    const results = await ctx.pool.verifyBatch(
      samples.map((s) => ({ response: s.text ?? "", gold: fitting[s.promptIndex]!.example.answer })),
      { timeoutMs: ctx.timeoutMs, grader: ctx.grader ?? "qwen-math" },
    );
    samples.forEach((s, i) => {
      const r = results[i]!;
      if (r.correct) correct++;
      fitting[s.promptIndex]!.samples.push({ text: s.text ?? "", tokens: s.tokens.length, finishReason: s.finishReason, correct: r.correct, extracted: r.extracted });
    });
  }
  const total = set.examples.length * set.samples;
  return {
    name: set.name,
    protocol: { temperature: set.temperature, topP: set.topP, samples: set.samples },
    accuracy: total > 0 ? correct / total : 0,
    correct,
    total,
    problems,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Accuracy in [0, 1] per benchmark (mean over examples × samples; a prompt that does not fit counts as wrong). */
export async function evaluate(ctx: EvalContext, sets: readonly EvalSet[], hooks: EvalSetHooks = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const set of sets) out[set.name] = (await evaluateSet(ctx, set, hooks)).accuracy;
  return out;
}
