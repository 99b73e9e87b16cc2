// The RLVR training loop: rollout (sampler) → reward (verifier pool) → advantages (kernel)
// → old/ref log-probs → update (forwardBackward per micro-batch, AdamW per mini-batch) →
// metrics, evaluation and checkpoints.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";

import {
  AccuracyHistory,
  appendMetrics,
  applyWrongLabels,
  parseAccuracyHistory,
  parseMetricsJsonl,
  readVerlDataset,
  reflectionStats,
  writeFileAtomic,
  type StepMetrics,
  type VerlRow,
} from "@rlvr/data";
import { Engine } from "@rlvr/engine";
import { loadModelDir, type ModelDir } from "@rlvr/model";
import { Tensor, klPenalty } from "@rlvr/native";
import { counterUniform, engineStepModel, generate } from "@rlvr/sampler";
import { VerifierPool } from "@rlvr/verifier";

import { gaeAdvantages, grpoAdvantages } from "./advantages.js";
import { broadcastRows, distinctSequences, maskedMean, responseMask, responseWidth, toResponseLayout, type Rollout } from "./batch.js";
import {
  OPTIMIZER_FILE, findLatestCheckpoint, pruneCheckpoints, readCriticCheckpoint, readOptimizerState, writeTrainerCheckpoint,
  type TrainerState,
} from "./checkpoint.js";
import { criticValues, updateCritic, type CriticUpdateStats } from "./critic.js";
import { ConfigError, effectiveLoss, learningRate, type TrainConfig } from "./config.js";
import { evaluate, loadEvalSets, type EvalSet } from "./eval.js";
import { verifierReward, type RewardFunction } from "./reward.js";
import { scoreRollouts, updatePolicy, type UpdateStats } from "./update.js";

export type TrainerEvent =
  | { type: "log"; message: string }
  | { type: "start"; firstStep: number; totalSteps: number; runDir: string; resumedFrom: string | null }
  | { type: "phase"; step: number; phase: keyof StepMetrics["phase_s"] | "eval" | "checkpoint" }
  | { type: "step"; metrics: StepMetrics; stepSeconds: number; totalSteps: number }
  | { type: "eval"; step: number; results: Record<string, number> }
  | { type: "checkpoint"; step: number; dir: string };

export interface TrainOptions {
  config: TrainConfig;
  /** Run folder (default config.trainer.outDir). */
  outDir?: string;
  /** Continue from the run folder's last good checkpoint. */
  resume?: boolean;
  /** Replaces the verifier reward (custom tasks, tests). */
  reward?: RewardFunction;
  onEvent?: (e: TrainerEvent) => void;
  /** Stop (after the current step) once this many steps ran in this call. */
  maxStepsThisRun?: number;
  /** Stop after the current step when aborted. */
  signal?: AbortSignal;
}

export interface TrainResult {
  runDir: string;
  /** The last completed step. */
  lastStep: number;
  /** The metrics written by this call. */
  metrics: StepMetrics[];
  resumedFrom: string | null;
}

/** Files of a run folder. */
export const RUN_FILES = {
  config: "config.json",
  metrics: "metrics.jsonl",
  eval: "eval.jsonl",
  history: "acc_history.json",
} as const;

interface PromptRow {
  row: VerlRow;
  ids: Int32Array;
}

/** 32-bit mix of (seed, a, b) for per-step and per-epoch seeds. */
export function deriveSeed(seed: number, a: number, b = 0): number {
  return Math.floor(counterUniform(seed, a, b) * 2 ** 24) ^ ((seed * 2654435761) >>> 8);
}

/** The data order of an epoch (seeded Fisher-Yates, or the file order). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(counterUniform(seed ^ 0x5bd1e995, epoch, i) * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const finiteOr = (x: number, d: number) => (Number.isFinite(x) ? x : d);

/** Runs (or resumes) training as configured. The run folder is never overwritten without `resume`. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const c = opts.config;
  const emit = opts.onEvent ?? (() => {});
  const log = (message: string) => emit({ type: "log", message });
  if (c.eval.maxNewTokens < 1) throw new ConfigError(`config key "eval.maxNewTokens" must be >= 1`, "eval.maxNewTokens");

  const runDir = resolve(opts.outDir ?? c.trainer.outDir);
  const metricsPath = join(runDir, RUN_FILES.metrics);
  const evalPath = join(runDir, RUN_FILES.eval);
  const historyPath = join(runDir, RUN_FILES.history);
  await mkdir(runDir, { recursive: true });

  // --- where do we start? --------------------------------------------------------------------
  const found = opts.resume ? findLatestCheckpoint(runDir) : null;
  if (!opts.resume && (existsSync(metricsPath) || existsSync(join(runDir, "checkpoints")))) {
    throw new ConfigError(`${runDir} already holds a run (metrics.jsonl or checkpoints/): pass --resume to continue it, or choose another --out`, "trainer.outDir");
  }
  const startStep = found ? found.state.step : 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  if (opts.resume) {
    // Steps after the checkpoint are redone: move their records aside (never delete them).
    trimJsonl(metricsPath, startStep, `metrics.after-step-${startStep}.${stamp}.jsonl`, runDir);
    // (with no checkpoint the before-training evaluation is redone too)
    trimJsonl(evalPath, found ? startStep : -1, `eval.after-step-${startStep}.${stamp}.jsonl`, runDir);
    log(found ? `resuming from ${found.dir} (step ${startStep})` : `no checkpoint in ${runDir}: starting from step 0`);
  }
  writeFileAtomic(join(runDir, RUN_FILES.config), `${JSON.stringify(c, null, 2)}\n`);

  // --- model, reference, data ----------------------------------------------------------------
  const base: ModelDir = await loadModelDir(c.model.path);
  const loss = effectiveLoss(c);
  const actorWeights = found ? (await loadModelDir(found.modelDir)).weights! : base.weights!;
  const engineOpts = {
    backend: c.model.backend,
    ...(c.model.backend === "cuda" ? { device: c.model.device } : {}),
    ...(c.model.backend !== "cpu" && c.model.bf16Gemm ? { bf16Gemm: true } : {}),
  };
  const actor = Engine.fromWeights(base.config, actorWeights, engineOpts);
  if (found) actor.loadOptimizerState(await readOptimizerState(found.dir));
  // The frozen reference is the initial model, only needed for the KL loss.
  const ref = loss.klCoef > 0 ? Engine.fromWeights(base.config, base.weights!, engineOpts) : null;
  // PPO's critic: the base body with a zero value head, or the checkpoint's critic.
  let critic: Engine | null = null;
  if (c.algorithm.advEstimator === "gae") {
    const saved = found ? await readCriticCheckpoint(found.dir) : null;
    if (found && !saved) {
      throw new ConfigError(
        `${found.dir} has no critic/ (it was written by a GRPO run): resume it with algorithm.advEstimator "grpo", or start a new --out`,
        "algorithm.advEstimator",
      );
    }
    critic = Engine.fromWeights(base.config, saved?.weights ?? base.weights!, { ...engineOpts, valueHead: true });
    if (saved) critic.loadOptimizerState(saved.optimizer);
  }
  base.weights = null;

  const tok = base.tokenizer;
  const decode = (t: Int32Array) => tok.decode(Array.from(t), { skipSpecialTokens: true });
  let rows = await readVerlDataset(c.data.train);
  if (c.data.wrongLabels) rows = applyWrongLabels(rows, new Map(), c.data.wrongLabelSeed);
  const context = base.config.maxPositionEmbeddings;
  const prompts: PromptRow[] = [];
  let dropped = 0;
  for (const row of rows) {
    const ids = tok.encodeChat(row.prompt.map((m) => ({ role: m.role, content: m.content })), { addGenerationPrompt: true, maxLength: Number.MAX_SAFE_INTEGER });
    if (ids.length > c.data.maxPromptLength || ids.length + 1 > context) dropped++;
    else prompts.push({ row, ids: Int32Array.from(ids) });
  }
  if (dropped > 0) log(`dropped ${dropped} of ${rows.length} prompts longer than data.maxPromptLength (${c.data.maxPromptLength}) or the model context (${context})`);
  if (prompts.length < c.data.trainBatchSize) {
    throw new ConfigError(
      `config key "data.trainBatchSize": ${c.data.trainBatchSize} prompts per step but ${c.data.train} has ${prompts.length} usable rows`,
      "data.trainBatchSize",
    );
  }
  const batchesPerEpoch = Math.floor(prompts.length / c.data.trainBatchSize);

  const evalSets: EvalSet[] = c.trainer.testFreq > 0 || c.eval.beforeTrain ? loadEvalSets(c.eval.benchmarks, c.eval.files, c.eval.limit) : [];
  const pool = new VerifierPool({ size: c.reward.workers, timeoutMs: c.reward.timeoutMs });
  const rewardFn = opts.reward ?? verifierReward(pool, { formatReward: c.reward.formatReward, timeoutMs: c.reward.timeoutMs });

  // --- state ---------------------------------------------------------------------------------
  const history = found?.historyText ? new AccuracyHistory(parseAccuracyHistory(found.historyText)) : new AccuracyHistory();
  let epochCounts = new Map<number, [number, number]>((found?.state.epochCounts ?? []).map(([i, a, b]) => [i, [a, b]]));
  let countsEpoch = found?.state.epoch ?? 0;
  let adamwSteps = found?.state.adamwSteps ?? 0;
  let tokensTotal = found?.state.tokens ?? 0;
  const elapsed0 = found?.state.elapsed ?? 0;
  const t0 = performance.now();
  const now = () => elapsed0 + (performance.now() - t0) / 1000;
  const written: StepMetrics[] = [];
  const totalSteps = c.trainer.totalSteps;
  emit({ type: "start", firstStep: startStep + 1, totalSteps, runDir, resumedFrom: found?.dir ?? null });

  const evalCtx = {
    engine: actor, tokenizer: tok, eosIds: base.eosTokenIds, systemPrompt: c.eval.systemPrompt,
    maxNewTokens: c.eval.maxNewTokens, maxBatch: c.rollout.maxBatch, seed: deriveSeed(c.trainer.seed, 0x7e57), pool, timeoutMs: c.reward.timeoutMs,
  };
  const runEval = async (step: number) => {
    emit({ type: "phase", step, phase: "eval" });
    const results = await evaluate(evalCtx, evalSets);
    appendLine(evalPath, { step, time: now(), test: results });
    emit({ type: "eval", step, results });
    return results;
  };

  const saveAt = async (step: number) => {
    emit({ type: "phase", step, phase: "checkpoint" });
    const state: TrainerState = {
      version: 1, step, adamwSteps, seed: c.trainer.seed, elapsed: now(),
      epochCounts: [...epochCounts].map(([i, [a, b]]) => [i, a, b]), epoch: countsEpoch, tokens: tokensTotal,
      optimizerFile: OPTIMIZER_FILE, savedAt: new Date().toISOString(),
    };
    const dir = await writeTrainerCheckpoint(
      runDir,
      {
        config: base.config, weights: actor.exportWeights(), tokenizerDir: base.dir, rawConfig: base.rawConfig,
        ...(base.generationConfig ? { rawGenerationConfig: base.generationConfig.raw } : {}),
        dtype: c.model.checkpointDtype === "float32" ? "F32" : "BF16",
      },
      state,
      history.toText(),
      actor.optimizerState(),
      critic ? { weights: critic.exportWeights(), optimizer: critic.optimizerState(), rawConfig: base.rawConfig } : undefined,
    );
    if (c.trainer.keepCheckpoints !== null) pruneCheckpoints(runDir, c.trainer.keepCheckpoints);
    emit({ type: "checkpoint", step, dir });
  };

  try {
    if (startStep === 0 && c.eval.beforeTrain && evalSets.length > 0) await runEval(0);
    let ran = 0;
    for (let step = startStep + 1; step <= totalSteps; step++) {
      if (opts.signal?.aborted || (opts.maxStepsThisRun !== undefined && ran >= opts.maxStepsThisRun)) break;
      const stepStart = performance.now();
      const epoch = Math.floor((step - 1) / batchesPerEpoch);
      const k = (step - 1) % batchesPerEpoch;
      if (epoch !== countsEpoch) {
        flushEpoch(history, epochCounts);
        epochCounts = new Map();
        countsEpoch = epoch;
        history.write(historyPath);
      }
      const order = epochOrder(prompts.length, c.trainer.seed, epoch, c.data.shuffle);
      const batch = Array.from({ length: c.data.trainBatchSize }, (_, i) => prompts[order[k * c.data.trainBatchSize + i]!]!);

      const r = await trainStep(step, batch);
      tokensTotal += r.tokens;
      for (const [idx, right] of r.correctByExample) {
        const e = epochCounts.get(idx) ?? [0, 0];
        e[0] += right[0];
        e[1] += right[1];
        epochCounts.set(idx, e);
      }
      // the epoch's last step: record the epoch's accuracies now
      if (k === batchesPerEpoch - 1) {
        flushEpoch(history, epochCounts);
        epochCounts = new Map();
        countsEpoch = epoch + 1;
        history.write(historyPath);
      }

      const metrics = { ...r.metrics, step, epoch, time: 0 } as StepMetrics;
      const last = step === totalSteps;
      if (evalSets.length > 0 && c.trainer.testFreq > 0 && (step % c.trainer.testFreq === 0 || last)) {
        const t = performance.now();
        metrics.test = await runEval(step);
        metrics.eval_s = (performance.now() - t) / 1000;
      }
      metrics.time = now();
      appendMetrics(metricsPath, metrics);
      written.push(metrics);
      ran++;
      const stopping = opts.signal?.aborted || (opts.maxStepsThisRun !== undefined && ran >= opts.maxStepsThisRun);
      emit({ type: "step", metrics, stepSeconds: (performance.now() - stepStart) / 1000, totalSteps });
      if ((c.trainer.saveFreq > 0 && step % c.trainer.saveFreq === 0) || last) await saveAt(step);
      if (stopping) break;
    }
  } finally {
    await pool.close();
  }
  return { runDir, lastStep: written.at(-1)?.step ?? startStep, metrics: written, resumedFrom: found?.dir ?? null };

  // --- one step ----------------------------------------------------------------------------
  async function trainStep(step: number, batch: PromptRow[]) {
    const phase: StepMetrics["phase_s"] = { rollout: 0, reward: 0, old_logp: 0, ref_logp: 0, update: 0, ...(critic ? { values: 0, critic: 0 } : {}) };
    const timed = <T>(name: keyof typeof phase, fn: () => T): T => {
      emit({ type: "phase", step, phase: name });
      const t = performance.now();
      const v = fn();
      phase[name] = (phase[name] ?? 0) + (performance.now() - t) / 1000;
      return v;
    };
    const n = c.rollout.n, tau = c.rollout.temperature;
    const scoring = { maxRows: c.actor.logProbMicroBatchSize, maxTokens: c.actor.logProbMaxTokens };

    // rollout: prompt-major, row p·n + k is sample k of prompt row p (its group id is p)
    const samples = timed("rollout", () =>
      generate(engineStepModel(actor, { maxNewTokens: c.data.maxResponseLength }), batch.map((b) => b.ids), {
        n, temperature: tau, topP: c.rollout.topP, topK: c.rollout.topK, maxNewTokens: c.data.maxResponseLength,
        eosIds: base.eosTokenIds, seed: deriveSeed(c.trainer.seed, step), maxBatch: c.rollout.maxBatch, decode,
      }),
    );
    const rollouts: Rollout[] = samples.map((s) => {
      const p = batch[s.promptIndex]!;
      return {
        promptIds: p.ids, responseIds: s.tokens, oldLogp: s.logprobs, text: s.text ?? "", finishReason: s.finishReason,
        group: s.promptIndex, exampleIndex: p.row.extra_info.index, gold: p.row.reward_model.ground_truth,
      };
    });
    const genTokens = rollouts.reduce((a, r) => a + r.responseIds.length, 0);

    // reward: the verifier grades in its worker threads while this thread runs the scoring
    // passes that do not need the rewards (old/ref log-probs, critic values); phase_s.reward is
    // the wait for the verifier left after them
    const W = responseWidth(rollouts);
    const mask = responseMask(rollouts, W);
    const pending = rewardFn(rollouts.map((r) => ({ response: r.text, gold: r.gold, exampleIndex: r.exampleIndex })));
    pending.catch(() => {}); // handled by the await below; no unhandled-rejection report while scoring
    const distinct = distinctSequences(rollouts); // the scoring passes run each distinct sequence once
    // old log-probs: the sampler's (same kernel, same τ, actor unchanged since the rollout) unless recompute is asked for
    const oldLogp = timed("old_logp", () =>
      c.actor.recomputeOldLogp ? scoreRollouts(actor, rollouts, W, tau, scoring, distinct).logp : toResponseLayout(rollouts.map((r) => r.oldLogp), W),
    );
    const refLogp = ref ? timed("ref_logp", () => scoreRollouts(ref, rollouts, W, tau, scoring, distinct).logp) : undefined;
    const values = critic ? timed("values", () => criticValues(critic!, rollouts, W, scoring, c.actor.packSequences, distinct)) : null;
    emit({ type: "phase", step, phase: "reward" });
    const tr = performance.now();
    const rewards = await pending;
    phase.reward += (performance.now() - tr) / 1000;
    const scores = Float32Array.from(rewards, (x) => x.score);
    // GRPO: group-normalized scores on every token; PPO: GAE over the critic's values
    let advantages: Float32Array;
    let returns: Float32Array | null = null;
    if (values) {
      const g = gaeAdvantages(scores, values, mask, W, { gamma: c.algorithm.gamma, lambda: c.algorithm.lambda });
      advantages = g.advantages;
      returns = g.returns;
    } else {
      const adv = grpoAdvantages(scores, Int32Array.from(rollouts, (r) => r.group), { normStd: c.algorithm.normStd, eps: c.algorithm.eps });
      advantages = broadcastRows(adv, mask, W);
    }

    const lr = learningRate(c, step);
    // the critic first (verl's order); during critic warm-up the actor is not updated
    let cstats: CriticUpdateStats | null = null;
    if (critic) {
      cstats = timed("critic", () =>
        updateCritic(critic!, { rollouts, width: W, mask, oldValues: values!, returns: returns! }, {
          clip: c.critic.cliprangeValue, miniBatch: c.actor.ppoMiniBatchSize * n, microBatch: c.actor.microBatchSize,
          ppoEpochs: c.actor.ppoEpochs, pack: c.actor.packSequences,
          optimizer: { lr: c.critic.lr, beta1: c.actor.betas[0], beta2: c.actor.betas[1], eps: c.actor.eps, weightDecay: c.critic.weightDecay, maxGradNorm: c.critic.gradClip },
        }),
      );
    }
    const actorFrozen = critic !== null && step <= c.critic.warmupSteps;
    const stats: UpdateStats = timed("update", () =>
      updatePolicy(actor, { rollouts, width: W, mask, advantages, oldLogp, ...(refLogp ? { refLogp } : {}) }, {
        temperature: tau, pgCoef: loss.pgCoef, klCoef: loss.klCoef, klType: c.actor.klType, entropyCoeff: loss.entropyCoeff,
        clipLow: c.actor.clipLow, clipHigh: c.actor.clipHigh, dualClip: c.actor.dualClip, lossAgg: c.actor.lossAgg,
        miniBatch: c.actor.ppoMiniBatchSize * n, microBatch: c.actor.microBatchSize, ppoEpochs: actorFrozen ? 1 : c.actor.ppoEpochs,
        optimizer: { lr, beta1: c.actor.betas[0], beta2: c.actor.betas[1], eps: c.actor.eps, weightDecay: loss.weightDecay, maxGradNorm: c.actor.gradClip },
        ...(actorFrozen ? { step: false } : {}),
        pack: c.actor.packSequences,
      }),
    );
    if (actorFrozen) actor.zeroGrad();
    adamwSteps += actorFrozen ? 0 : stats.gradNorms.length - stats.skipped;

    // KL to the reference (token mean of the configured estimator) on the pre-update policy
    let kl = 0;
    if (refLogp) {
      const k = klPenalty(Tensor.from(stats.tokenLogp), Tensor.from(refLogp), c.actor.klType).kl.toArray() as Float32Array;
      kl = maskedMean(k, mask);
    }
    const correctByExample = new Map<number, [number, number]>();
    rollouts.forEach((r, i) => {
      const e = correctByExample.get(r.exampleIndex) ?? [0, 0];
      e[0] += rewards[i]!.correct ? 1 : 0;
      e[1]++;
      correctByExample.set(r.exampleIndex, e);
    });
    const finiteNorms = stats.gradNorms.filter(Number.isFinite);
    const texts = rollouts.map((r) => r.text);
    const reflection = reflectionStats(texts, { words: c.trainer.reflectionWords });
    const lengths = rollouts.map((r) => r.responseIds.length);
    const metrics: Omit<StepMetrics, "step" | "epoch" | "time"> & Record<string, unknown> = {
      reward_mean: mean(Array.from(scores)),
      train_acc: rewards.filter((x) => x.correct).length / rewards.length,
      entropy: Math.max(0, finiteOr(maskedMean(stats.tokenEntropy, mask), 0)),
      response_length_mean: mean(lengths),
      kl: finiteOr(kl, 0),
      clip_frac: clamp01(finiteOr(stats.clipFrac, 0)),
      pg_loss: finiteOr(stats.pgLoss, 0),
      grad_norm: mean(finiteNorms),
      lr,
      tokens_per_s: phase.rollout > 0 ? genTokens / phase.rollout : 0,
      phase_s: phase,
      reflection: reflection.counts,
      // extra keys (kept by the loose metrics schema)
      kl_loss: finiteOr(stats.klLoss, 0),
      entropy_loss: finiteOr(stats.entropyLoss, 0),
      total_loss: finiteOr(stats.total, 0),
      ppo_kl: finiteOr(stats.ppoKl, 0),
      dual_clip_frac: clamp01(finiteOr(stats.dualClipFrac, 0)),
      response_length_max: Math.max(...lengths),
      truncated_frac: rollouts.filter((r) => r.finishReason === "length" || r.finishReason === "context").length / rollouts.length,
      score_std: std(Array.from(scores)),
      optimizer_steps: stats.gradNorms.length,
      skipped_updates: stats.skipped,
      grad_norm_nonfinite: finiteNorms.length !== stats.gradNorms.length,
      generated_tokens: genTokens,
      // distinct (prompt, response) token sequences among the responses: how far the
      // group's samples have collapsed, and how many rows the scoring passes ran
      distinct_responses: distinct.unique.length,
      reflection_responses: reflection.responsesWithReflection,
      ...(cstats && values && returns
        ? {
            vf_loss: finiteOr(cstats.vfLoss, 0),
            vf_clip_frac: clamp01(finiteOr(cstats.vfClipFrac, 0)),
            critic_grad_norm: mean(cstats.gradNorms.filter(Number.isFinite)),
            values_mean: finiteOr(maskedMean(values, mask), 0),
            returns_mean: finiteOr(maskedMean(returns, mask), 0),
            actor_frozen: actorFrozen,
          }
        : {}),
    };
    return { metrics, tokens: genTokens, correctByExample };
  }
}

function std(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
}

function flushEpoch(history: AccuracyHistory, counts: Map<number, [number, number]>): void {
  for (const [index, [right, all]] of counts) history.record(index, right / all);
}

function appendLine(path: string, obj: unknown): void {
  writeFileAtomic(path, (existsSync(path) ? readFileSync(path, "utf8") : "") + `${JSON.stringify(obj)}\n`);
}

/**
 * Keeps the lines of a JSONL run file whose `step` is <= `step` (rewritten atomically) and moves
 * the others into `aside` in the run folder. Unreadable trailing lines (a crash mid-write) go
 * aside too.
 */
function trimJsonl(path: string, step: number, aside: string, runDir: string): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, "utf8");
  const keep: string[] = [], drop: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let s = Number.POSITIVE_INFINITY;
    try {
      s = (JSON.parse(line) as { step?: number }).step ?? Number.POSITIVE_INFINITY;
    } catch {
      // a torn line
    }
    (s <= step ? keep : drop).push(line);
  }
  if (drop.length === 0) return;
  writeFileAtomic(join(runDir, aside), `${drop.join("\n")}\n`);
  if (keep.length === 0) rmSync(path);
  else writeFileAtomic(path, `${keep.join("\n")}\n`);
  // validate what is kept (fails loudly on a corrupted file instead of appending to it)
  if (keep.length > 0 && path.endsWith(RUN_FILES.metrics)) parseMetricsJsonl(`${keep.join("\n")}\n`, path);
}
