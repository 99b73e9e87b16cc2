// Pretraining of the math world's tiny Qwen2 base model on rlvr's own engine: next-token
// cross-entropy on chat-formatted (prompt → worked solution) sequences, response tokens only,
// with periodic greedy test accuracy; it stops early, at a target accuracy, so that the base
// model is imperfect (as a base model before RLVR is), then saves a Hugging Face checkpoint.
// Optionally (slips.ts) the text's carry/borrow steps slip and are sometimes rechecked, which
// makes a base that has a skill in its samples but not greedily (the "slips world").
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { Engine, type ForwardBackwardResult } from "@rlvr/engine";
import {
  expectedTensorShapes,
  ModelTokenizer,
  parseModelConfig,
  saveCheckpoint,
  type ChatMessage,
  type ModelConfig,
  type TensorData,
} from "@rlvr/model";
import { engineStepModel, generate } from "@rlvr/sampler";
import { verifySync } from "@rlvr/verifier";

import {
  DEFAULT_SEED,
  EVAL_SYSTEM_PROMPT,
  FAMILIES,
  generateSplits,
  pretrainStream,
  userContent,
  type Family,
  type Problem,
} from "./generator.js";
import { Rng } from "./rng.js";
import { RECHECK, slipSites, writeWithSlips, type SlipOptions } from "./slips.js";
import { buildTokenizerFiles, tokenizerFileMap } from "./tokenizer.js";

export interface ModelShape {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  maxPositionEmbeddings: number;
}

export const DEFAULT_SHAPE: ModelShape = {
  hiddenSize: 128,
  intermediateSize: 384,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  maxPositionEmbeddings: 512,
};

/** A tiny Qwen2 config.json object for the world's tokenizer (tied embeddings, f32). */
export function tinyQwen2ConfigJson(tok: ModelTokenizer, shape: ModelShape = DEFAULT_SHAPE): Record<string, unknown> {
  const imEnd = tok.tokenToId("<|im_end|>")!;
  const eot = tok.tokenToId("<|endoftext|>")!;
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: tok.vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads,
    hidden_act: "silu",
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    rope_scaling: null,
    max_position_embeddings: shape.maxPositionEmbeddings,
    max_window_layers: shape.numLayers,
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: shape.maxPositionEmbeddings,
    attention_dropout: 0.0,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: "float32",
    bos_token_id: eot,
    eos_token_id: [imEnd, eot],
  };
}

/**
 * Seeded initial weights: N(0, 0.02) matrices and embeddings (output projections scaled by
 * 1/sqrt(2·layers), as GPT-2 does), RMSNorm weights 1, biases 0.
 */
export function initWeights(config: ModelConfig, seed: number): Map<string, TensorData> {
  const r = new Rng((seed ^ 0x1a17) >>> 0);
  const out = new Map<string, TensorData>();
  const residScale = 1 / Math.sqrt(2 * config.numLayers);
  for (const [name, shape] of expectedTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith("norm.weight")) data.fill(1);
    else if (!name.endsWith(".bias")) {
      const std = 0.02 * (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residScale : 1);
      for (let i = 0; i < n; i++) data[i] = r.normal() * std;
    }
    out.set(name, { shape, data });
  }
  return out;
}

export const DEFAULT_DIFFICULTY_WEIGHTS: [number, number, number] = [0.5, 0.3, 0.2];

export type FormatNoise = Record<Family, number>;

/**
 * Default format noise: the share of pretraining solutions written "The answer is N." without
 * \boxed. Fraction problems are almost always written unboxed (a habit greedy decoding keeps, so
 * the base model makes format errors RLVR can fix); the other families rarely. At 0.7 (the first
 * base) greedy decoding flipped between boxed and unboxed fraction answers from one checkpoint to
 * the next, so the format headroom depended on where training stopped; 0.95 makes it stable.
 */
export const DEFAULT_FORMAT_NOISE: FormatNoise = { add_sub: 0.1, mul: 0.1, linear: 0.1, fraction: 0.95 };

/** No slips, no rechecks: the default, with which the committed base was made. */
export const NO_SLIPS: SlipOptions = { slipRate: 0, recheckRate: 0 };

/**
 * The slips world's setting (README, "The slips world"): a carry or borrow step is written
 * slipped 85 % of the time and followed by "Recheck: <right step>." 35 % of the time, so the
 * greedy base slips and does not recheck while some of its samples recheck and get it right.
 * (At 60 % / 25 % the right carry was mostly written directly, and RL on one carry example learned
 * that example's sum without transfer.)
 */
export const SLIPS_WORLD: SlipOptions = { slipRate: 0.85, recheckRate: 0.35 };

/** The solution with its final \boxed{answer} written as plain text. */
export function unboxed(solution: string): string {
  return solution.replace(/\\boxed\{([^{}]*)\}/, "$1");
}

export interface PretrainOptions {
  /** Checkpoint directory to write (HF layout). */
  out: string;
  /** Seed of initialization, data order and format noise (default 1). */
  seed?: number;
  /** Seed of the train/test splits (default: generator's DEFAULT_SEED). */
  dataSeed?: number;
  /** Most optimizer steps (default 2000); the cosine schedule ends here. */
  maxSteps?: number;
  /** Sequences per step (default 32). */
  batchSize?: number;
  /** Peak learning rate (default 3e-3): linear warm-up, then cosine decay to minLrRatio·lr at maxSteps. */
  lr?: number;
  /** Final learning rate as a share of the peak (default 0.1). */
  minLrRatio?: number;
  warmupSteps?: number;
  weightDecay?: number;
  /** Greedy test accuracy every this many steps (default 50). */
  evalEvery?: number;
  /** Stop at the first evaluation whose test accuracy is ≥ this (default 0.2; 1 = run all maxSteps). */
  targetAccuracy?: number;
  /** Test problems evaluated (default: the whole test split). */
  evalSize?: number;
  formatNoise?: FormatNoise;
  /** Slips and rechecks of carry/borrow steps (default NO_SLIPS: the gold solutions). */
  slips?: SlipOptions;
  /**
   * Also keep the validation split's questions out of pretraining (default false: the committed
   * base was made before the split existed, and its command must still make it bit for bit; its
   * pretraining text may contain validation questions).
   */
  excludeValidation?: boolean;
  /** Relative weights of difficulty levels 1, 2, 3 in pretraining (default [0.5, 0.3, 0.2]). */
  difficultyWeights?: [number, number, number];
  /** Share of pretraining chats that carry the evaluation system prompt (default 0.2). */
  systemPromptRate?: number;
  shape?: ModelShape;
  /** New tokens per evaluation answer (default 96). */
  maxNewTokens?: number;
  overwrite?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Extra fields written into rlvr_pretrain.json (e.g. the command line). */
  provenance?: Record<string, unknown>;
}

export interface EvalResult {
  accuracy: number;
  correct: number;
  total: number;
  /** Share of responses without a \boxed{} answer. */
  formatErrors: number;
  /** Share of responses cut at maxNewTokens. */
  truncated: number;
  /** Accuracy if "The answer is N." counted too (the verifier's final-answer fallback): the format headroom. */
  lenientAccuracy: number;
  /** Share of responses that write the self-check phrase "Recheck:". */
  recheckRate: number;
  byFamily: Record<string, { correct: number; total: number }>;
  byDifficulty: Record<string, { correct: number; total: number }>;
  /** By the number of carry/borrow steps in the gold solution ("0", "1", "2+"): where the latent skill matters. */
  bySlipSites: Record<string, { correct: number; total: number }>;
}

export interface PretrainResult {
  steps: number;
  stoppedAt: "target" | "max-steps";
  seconds: number;
  finalLoss: number;
  eval: EvalResult;
  history: { step: number; loss: number; accuracy: number; formatErrors: number; seconds: number }[];
}

/** Token ids of a problem's chat prompt (user message, optionally the eval system prompt), ending with the assistant header. */
export function promptIds(tok: ModelTokenizer, p: Problem, withSystem = false): number[] {
  const messages: ChatMessage[] = [
    ...(withSystem ? [{ role: "system", content: EVAL_SYSTEM_PROMPT }] : []),
    { role: "user", content: userContent(p) },
  ];
  return tok.encodeChat(messages, { addGenerationPrompt: true });
}

/**
 * Plain next-token cross-entropy through the engine's fused policy objective. With
 * pgCoef = 0, klCoef = −1, klType "kl" and refLogp = 0 the per-token objective is
 * −1 · (logp − 0) = −log p exactly, so Σ w·(−log p) is the weighted NLL; gradients accumulate.
 */
export function crossEntropyForwardBackward(
  engine: Engine,
  x: { batch: number; length: number; inputIds: Int32Array; attentionMask: Float32Array; targets: Int32Array; weights: Float32Array },
): Promise<ForwardBackwardResult> {
  return engine.forwardBackward({
    ...x,
    refLogp: new Float32Array(x.batch * x.length),
    temperature: 1,
    pgCoef: 0,
    klCoef: -1,
    klType: "kl",
    entropyCoeff: 0,
  });
}

/** A right-padded batch; loss weights 1/(response tokens) on positions whose target is a response token. */
export function packBatch(seqs: { prompt: number[]; response: number[] }[], padId: number) {
  const batch = seqs.length;
  const length = Math.max(...seqs.map((s) => s.prompt.length + s.response.length)) - 1;
  const inputIds = new Int32Array(batch * length).fill(padId);
  const targets = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Float32Array(batch * length);
  const weights = new Float32Array(batch * length);
  const nResp = seqs.reduce((a, s) => a + s.response.length, 0);
  seqs.forEach((s, b) => {
    const ids = [...s.prompt, ...s.response];
    for (let t = 0; t < ids.length - 1; t++) {
      inputIds[b * length + t] = ids[t]!;
      targets[b * length + t] = ids[t + 1]!;
      attentionMask[b * length + t] = 1;
      if (t + 1 >= s.prompt.length) weights[b * length + t] = 1 / nResp;
    }
  });
  return { batch, length, inputIds, attentionMask, targets, weights, tokens: nResp };
}

/** Greedy accuracy of `engine` on `problems` (boxed answer verified by @rlvr/verifier). */
export async function evaluateGreedy(
  engine: Engine,
  tok: ModelTokenizer,
  problems: readonly Problem[],
  o: { maxNewTokens?: number; eosIds?: readonly number[]; withSystem?: boolean } = {},
): Promise<EvalResult & { responses: string[] }> {
  const maxNewTokens = o.maxNewTokens ?? 96;
  const prompts = problems.map((p) => Int32Array.from(promptIds(tok, p, o.withSystem)));
  const samples = await generate(engineStepModel(engine, { maxNewTokens }), prompts, {
    temperature: 0,
    maxNewTokens,
    eosIds: o.eosIds ?? tok.eosTokenIds,
    maxBatch: 100,
    decode: (t) => tok.decode(Array.from(t), { skipSpecialTokens: true }),
  });
  let correct = 0, noAnswer = 0, truncated = 0, lenient = 0, rechecks = 0;
  const byFamily: EvalResult["byFamily"] = {};
  const byDifficulty: EvalResult["byDifficulty"] = {};
  const bySlipSites: EvalResult["bySlipSites"] = {};
  const responses: string[] = [];
  samples.forEach((s, i) => {
    const p = problems[s.promptIndex]!;
    const text = s.text ?? "";
    responses[i] = text;
    const v = verifySync(text, p.answer);
    if (v.correct) correct++;
    if (v.correct || verifySync(text, p.answer, { fallbacks: ["final-answer"] }).correct) lenient++;
    if (v.extracted === null) noAnswer++;
    if (s.finishReason !== "eos") truncated++;
    if (text.includes(RECHECK)) rechecks++;
    const sites = slipSites(p);
    const f = (byFamily[p.family] ??= { correct: 0, total: 0 });
    const d = (byDifficulty[String(p.difficulty)] ??= { correct: 0, total: 0 });
    const c = (bySlipSites[sites >= 2 ? "2+" : String(sites)] ??= { correct: 0, total: 0 });
    f.total++, d.total++, c.total++;
    if (v.correct) f.correct++, d.correct++, c.correct++;
  });
  const n = problems.length;
  return {
    accuracy: correct / n, correct, total: n, formatErrors: noAnswer / n, truncated: truncated / n, lenientAccuracy: lenient / n,
    recheckRate: rechecks / n, byFamily, byDifficulty, bySlipSites, responses,
  };
}

/** Linear warm-up to `lr` over `warmup` steps, then cosine decay to minLrRatio·lr at maxSteps. */
export function learningRate(step: number, s: { lr: number; warmup: number; maxSteps: number; minLrRatio: number }): number {
  if (step <= s.warmup) return (s.lr * step) / s.warmup;
  const progress = Math.min(1, (step - s.warmup) / Math.max(1, s.maxSteps - s.warmup));
  return s.lr * (s.minLrRatio + (1 - s.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Pretrains the base model and saves it to `o.out`. */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const seed = o.seed ?? 1;
  const maxSteps = o.maxSteps ?? 2000;
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 3e-3;
  const warmup = o.warmupSteps ?? 50;
  const evalEvery = o.evalEvery ?? 50;
  const target = o.targetAccuracy ?? 0.2;
  const noise = o.formatNoise ?? DEFAULT_FORMAT_NOISE;
  const slips = o.slips ?? NO_SLIPS;
  const systemRate = o.systemPromptRate ?? 0.2;
  const maxNewTokens = o.maxNewTokens ?? 96;
  const difficultyWeights = o.difficultyWeights ?? DEFAULT_DIFFICULTY_WEIGHTS;

  const files = buildTokenizerFiles();
  const fileMap = tokenizerFileMap(files);
  const tok = new ModelTokenizer(files.tokenizerJson, files.tokenizerConfig);
  const configJson = tinyQwen2ConfigJson(tok, o.shape ?? DEFAULT_SHAPE);
  const config = parseModelConfig(configJson);
  const engine = Engine.fromWeights(config, initWeights(config, seed));
  const eosIds = config.eosTokenIds;
  const padId = tok.tokenToId("<|endoftext|>")!;
  const imEnd = tok.tokenToId("<|im_end|>")!;

  const splits = generateSplits({ seed: o.dataSeed ?? DEFAULT_SEED });
  const testSet = splits.test.slice(0, o.evalSize ?? splits.test.length);
  const exclude = new Set([...splits.train, ...splits.test, ...(o.excludeValidation ? splits.val : [])].map((p) => p.question));
  const stream = pretrainStream(seed, exclude, difficultyWeights);
  const r = new Rng((seed ^ 0xf0a7) >>> 0);
  const rSlip = new Rng((seed ^ 0x5119) >>> 0);
  log(
    `pretrain: ${engine.numParameters.toLocaleString("en-US")} parameters (hidden ${config.hiddenSize}, ${config.numLayers} layers, ` +
      `vocab ${config.vocabSize}), batch ${batchSize}, lr ${lr}, slip rate ${slips.slipRate}, recheck rate ${slips.recheckRate}, ` +
        `stop at test accuracy >= ${pct(target)} or step ${maxSteps}`,
  );

  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const history: PretrainResult["history"] = [];
  let lossEma = NaN;
  let tokensSeen = 0;
  let step = 0;
  let stoppedAt: PretrainResult["stoppedAt"] = "max-steps";
  let last: (EvalResult & { responses: string[] }) | undefined;
  while (step < maxSteps) {
    step++;
    const seqs = Array.from({ length: batchSize }, () => {
      const p = stream.next().value as Problem;
      const written = slips.slipRate > 0 || slips.recheckRate > 0 ? writeWithSlips(p, rSlip, slips) : p.solution;
      const solution = r.chance(noise[p.family]) ? unboxed(written) : written;
      return { prompt: promptIds(tok, p, r.chance(systemRate)), response: [...tok.encode(solution, { addSpecialTokens: false }), imEnd] };
    });
    const b = packBatch(seqs, padId);
    const res = await crossEntropyForwardBackward(engine, b);
    const stepLr = learningRate(step, { lr, warmup, maxSteps, minLrRatio: o.minLrRatio ?? 0.1 });
    await engine.optimizerStep({ lr: stepLr, weightDecay: o.weightDecay ?? 0.01, maxGradNorm: 1 });
    tokensSeen += b.batch * b.length;
    lossEma = Number.isNaN(lossEma) ? res.total : 0.9 * lossEma + 0.1 * res.total;
    if (step % 10 === 0 || step === 1) {
      log(`step ${step}/${maxSteps}  loss ${lossEma.toFixed(4)}  lr ${stepLr.toExponential(2)}  ${(tokensSeen / seconds()).toFixed(0)} tok/s  ${seconds().toFixed(0)} s`);
    }
    if (step % evalEvery === 0 || step === maxSteps) {
      last = await evaluateGreedy(engine, tok, testSet, { maxNewTokens, eosIds });
      history.push({ step, loss: lossEma, accuracy: last.accuracy, formatErrors: last.formatErrors, seconds: seconds() });
      log(
        `eval step ${step}: test accuracy ${pct(last.accuracy)} (${last.correct}/${last.total}), no boxed answer ${pct(last.formatErrors)}, ` +
          `truncated ${pct(last.truncated)}, unboxed-but-right counted: ${pct(last.lenientAccuracy)}, recheck ${pct(last.recheckRate)}  ` +
          FAMILIES.map((f) => `${f} ${last!.byFamily[f]?.correct ?? 0}/${last!.byFamily[f]?.total ?? 0}`).join(" ") +
          `  level ` + ["1", "2", "3"].map((d) => `${last!.byDifficulty[d]?.correct ?? 0}/${last!.byDifficulty[d]?.total ?? 0}`).join(" "),
      );
      log(`  e.g. ${JSON.stringify(testSet[0]!.question)} -> ${JSON.stringify(last.responses[0])}`);
      if (last.accuracy >= target) {
        stoppedAt = "target";
        break;
      }
    }
  }
  const final = last ?? (await evaluateGreedy(engine, tok, testSet, { maxNewTokens, eosIds }));
  const { responses: _r, ...finalEval } = final as EvalResult & { responses?: string[] };
  await saveCheckpoint(o.out, config, engine.exportWeights(), fileMap, {
    dtype: "F32",
    baseConfig: configJson,
    overwrite: o.overwrite ?? false,
  });
  const result: PretrainResult = { steps: step, stoppedAt, seconds: seconds(), finalLoss: lossEma, eval: finalEval, history };
  writeFileSync(
    join(o.out, "rlvr_pretrain.json"),
    JSON.stringify(
      {
        ...o.provenance,
        options: { seed, dataSeed: o.dataSeed ?? DEFAULT_SEED, maxSteps, batchSize, lr, minLrRatio: o.minLrRatio ?? 0.1, warmupSteps: warmup, weightDecay: o.weightDecay ?? 0.01, evalEvery, targetAccuracy: target, formatNoise: noise, slips, excludeValidation: o.excludeValidation ?? false, difficultyWeights, systemPromptRate: systemRate, maxNewTokens, shape: o.shape ?? DEFAULT_SHAPE },
        result,
      },
      null,
      2,
    ) + "\n",
  );
  log(`saved ${o.out} after ${step} steps (${stoppedAt}), ${seconds().toFixed(0)} s; test accuracy ${pct(final.accuracy)}, no boxed answer ${pct(final.formatErrors)}`);
  return result;
}
