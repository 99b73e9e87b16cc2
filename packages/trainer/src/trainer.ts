// The RLVR training loop: rollout (sampler) → reward (verifier pool) → advantages (kernel)
// → old/ref log-probs → update (forwardBackward per micro-batch, AdamW per mini-batch) →
// metrics, evaluation and checkpoints.
import { existsSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

import {
  AccuracyHistory,
  applyFixedLabel,
  applyWrongLabels,
  checkGolds,
  parseAccuracyHistory,
  parseMetricsJsonl,
  parseStepMetrics,
  readVerlDataset,
  reflectionStats,
  writeFileAtomic,
  type StepMetrics,
  type VerlRow,
} from "@rlvr/data";
import { Engine } from "@rlvr/engine";
import { loadModelDir, type ModelDir, type Weights } from "@rlvr/model";
import type { OptimizerState } from "@rlvr/engine";
import { Tensor, deviceMemory, devices, klPenalty, resetDeviceMemoryPeak } from "@rlvr/native";
import { counterUniform, engineStepModel, generate } from "@rlvr/sampler";
import { VerifierPool } from "@rlvr/verifier";

import { gaeAdvantages, grpoAdvantages } from "./advantages.js";
import { broadcastRows, distinctSequences, maskedMean, microBatchCount, responseMask, responseWidth, toResponseLayout, type Rollout } from "./batch.js";
import {
  OPTIMIZER_FILE, checkpointLeftovers, pruneCheckpoints, readCriticCheckpoint, readOptimizerState, resumeCandidates, verifyCheckpoint,
  writeTrainerCheckpoint, type FoundCheckpoint, type TrainerState,
} from "./checkpoint.js";
import { DivergenceError, DivergenceGuard, checkEngine, checkState, weightArrays } from "./guard.js";
import { acquireRunLock } from "./runLock.js";
import { RunFileError, appendLineNoFollow, assertPlainFileOrMissing, withPath, withPathAsync } from "./runFiles.js";
import { criticValues, updateCritic, type CriticUpdateStats } from "./critic.js";
import { ConfigError, checksEveryUpdate, effectiveLoss, learningRate, recomputesOldLogp, type TrainConfig } from "./config.js";
import { evaluate, loadEvalSets, type EvalSet } from "./eval.js";
import { verifierReward, type RewardFunction } from "./reward.js";
import { stopTokenIds } from "./stopTokens.js";
import { ROLLOUTS_DIR, type RolloutRecord } from "./loggers/rolloutLog.js";
import { RunLoggers, TENSORBOARD_DIR } from "./loggers/runLoggers.js";
import { checkPlan, describePlan, planDeviceMemory, type MemoryPlan } from "./memoryPlan.js";
import { outOfMemoryStop } from "./outOfMemory.js";
import { scoreRollouts, updatePolicySteps, type UpdateStats } from "./update.js";

export type TrainerEvent =
  | { type: "log"; message: string }
  | { type: "start"; firstStep: number; totalSteps: number; runDir: string; resumedFrom: string | null }
  | { type: "phase"; step: number; phase: keyof StepMetrics["phase_s"] | "eval" | "checkpoint" }
  /**
   * Inside a phase: the rollout after each decode step (done / total sequences finished, tokens
   * generated), the update and the critic after each micro-batch (done / total forward-backward
   * calls), an evaluation after each decode step of each benchmark (sequences of that benchmark).
   * `seconds` since the phase (or the benchmark) started.
   */
  | { type: "progress"; step: number; phase: "rollout" | "update" | "critic" | "eval"; done: number; total: number; tokens?: number; seconds: number }
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
  /** Stop once this many steps ran in this call, with a checkpoint of the last one. */
  maxStepsThisRun?: number;
  /**
   * Stop when aborted: the step in progress is finished (a step is the unit that resume repeats
   * bit for bit, and its rollout is the costly part, so it is not thrown away), then the run ends
   * with a checkpoint of it. An abort during the evaluation before training ends the run after it.
   */
  signal?: AbortSignal;
}

/** Why train() returned: the configured end, a maxStepsThisRun stop, or an abort. */
export type StopReason = "completed" | "max-steps" | "interrupted";

export interface TrainResult {
  runDir: string;
  /** The last completed step. */
  lastStep: number;
  /** The metrics written by this call. */
  metrics: StepMetrics[];
  resumedFrom: string | null;
  stopReason: StopReason;
  /** The newest checkpoint of the run when train() returned (null when none was written). */
  checkpoint: string | null;
  /** Commands that show the run's curves (tensorboard, wandb sync), per trainer.loggers. */
  viewHints: string[];
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

/**
 * Runs (or resumes) training as configured. The run folder is never overwritten without
 * `resume`, and is locked (rlvr.lock) while this call owns it.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const c = opts.config;
  if (c.eval.maxNewTokens < 1) throw new ConfigError(`config key "eval.maxNewTokens" must be >= 1`, "eval.maxNewTokens");
  const runDir = resolve(opts.outDir ?? c.trainer.outDir);
  if (opts.resume && !holdsRun(runDir)) {
    throw new ConfigError(
      `--resume: ${runDir} holds no run to continue (no ${RUN_FILES.config}, ${RUN_FILES.metrics} or checkpoints/): check the --out path, or leave out --resume to start a new run there`,
      "trainer.outDir",
    );
  }
  await withPathAsync(runDir, "create the run folder", () => mkdir(runDir, { recursive: true }));
  const lock = acquireRunLock(runDir);
  try {
    if (lock.tookOver) opts.onEvent?.({ type: "log", message: `took over the lock of a trainer that is gone (pid ${lock.tookOver.pid}, since ${lock.tookOver.startedAt})` });
    return await trainLocked(opts, runDir);
  } finally {
    lock.release();
  }
}

/** Whether `dir` holds a run (its config, metrics or checkpoints). */
function holdsRun(dir: string): boolean {
  return [RUN_FILES.config, RUN_FILES.metrics, "checkpoints"].some((f) => existsSync(join(dir, f)));
}

/** A checkpoint that verified and loaded, with what resume restores from it. */
interface LoadedCheckpoint {
  found: FoundCheckpoint;
  weights: Weights;
  optimizer: OptimizerState;
}

/**
 * The newest checkpoint whose files verify against their manifest and load; damaged ones are
 * skipped with a log line naming the file. Null when the run has none; an error when it has
 * some but none is intact.
 */
async function loadNewestIntact(runDir: string, log: (m: string) => void): Promise<LoadedCheckpoint | null> {
  const candidates = resumeCandidates(runDir);
  const problems: string[] = [];
  for (const found of candidates) {
    const bad = await verifyCheckpoint(found);
    if (bad !== null && bad !== "unverified") {
      problems.push(`${found.dir}: ${bad}`);
      log(`checkpoint ${found.dir} is damaged (${bad}): trying the previous one`);
      continue;
    }
    try {
      const weights = (await loadModelDir(found.modelDir)).weights!;
      const optimizer = await readOptimizerState(found.dir);
      return { found, weights, optimizer };
    } catch (e) {
      problems.push(`${found.dir}: ${(e as Error).message}`);
      log(`checkpoint ${found.dir} cannot be loaded (${(e as Error).message}): trying the previous one`);
    }
  }
  if (candidates.length === 0) return null;
  throw new RunFileError(
    `--resume: no intact checkpoint in ${join(runDir, "checkpoints")}:\n  ${problems.join("\n  ")}\nrestore one of them, or start a new run with another --out`,
    join(runDir, "checkpoints"),
  );
}

/**
 * rollout.benchLengths: row r's response length, uniform in [min, max] from the counter RNG on a
 * stream position no decode step uses, so the lengths do not depend on the batching.
 */
export function benchLengths([min, max]: readonly [number, number], rows: number, seed: number): Int32Array {
  return Int32Array.from({ length: rows }, (_, r) => min + Math.min(max - min, Math.floor(counterUniform(seed, r, 0xfffffff0) * (max - min + 1))));
}

/** The device memory plan of a "cuda" run; null when the device is absent (creating the engine then names it). */
function devicePlan(model: ModelDir["config"], c: TrainConfig): MemoryPlan | null {
  const dev = devices().find((d) => d.index === c.model.device);
  if (!dev) return null;
  const plan = planDeviceMemory(model, c, dev.freeMemory);
  checkPlan(plan, c);
  return plan;
}

async function trainLocked(opts: TrainOptions, runDir: string): Promise<TrainResult> {
  const c = opts.config;
  const onEvent = opts.onEvent ?? (() => {});
  // the phase in progress, to name what sizes its memory when an allocation fails
  let inProgress = { step: 0, phase: "setup" };
  const emit = (ev: TrainerEvent) => {
    if (ev.type === "phase") inProgress = { step: ev.step, phase: ev.phase };
    onEvent(ev);
  };
  const log = (message: string) => emit({ type: "log", message });
  const metricsPath = join(runDir, RUN_FILES.metrics);
  const evalPath = join(runDir, RUN_FILES.eval);
  const historyPath = join(runDir, RUN_FILES.history);
  // run files are written only as plain files inside the run folder, never through a planted
  // link; so are the folders the trainer and its loggers write into
  for (const f of Object.values(RUN_FILES)) assertPlainFileOrMissing(join(runDir, f));
  for (const d of ["checkpoints", ROLLOUTS_DIR, TENSORBOARD_DIR]) assertFolderOrMissing(join(runDir, d));

  // --- where do we start? --------------------------------------------------------------------
  if (!opts.resume && (existsSync(metricsPath) || existsSync(join(runDir, "checkpoints")))) {
    throw new ConfigError(`${runDir} already holds a run (metrics.jsonl or checkpoints/): pass --resume to continue it, or choose another --out`, "trainer.outDir");
  }
  const loaded = opts.resume ? await loadNewestIntact(runDir, log) : null;
  const found = loaded?.found ?? null;
  const startStep = found ? found.state.step : 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  if (opts.resume) {
    // Steps after the checkpoint are redone: move their records aside (never delete them).
    trimJsonl(metricsPath, startStep, `metrics.after-step-${startStep}.${stamp}.jsonl`, runDir);
    // (with no checkpoint the before-training evaluation is redone too)
    trimJsonl(evalPath, found ? startStep : -1, `eval.after-step-${startStep}.${stamp}.jsonl`, runDir);
    log(found ? `resuming from ${found.dir} (step ${startStep})` : `no checkpoint in ${runDir}: starting from step 0`);
  }
  withPath(join(runDir, RUN_FILES.config), "write", () => writeFileAtomic(join(runDir, RUN_FILES.config), `${JSON.stringify(c, null, 2)}\n`));

  // --- model, reference, data ----------------------------------------------------------------
  const base: ModelDir = await loadModelDir(c.model.path);
  const loss = effectiveLoss(c);
  const actorWeights = loaded ? loaded.weights : base.weights!;
  const onDevice = c.model.backend === "cuda";
  // On a GPU one plan sizes everything from the free device memory (memoryPlan.ts); the kept
  // activations get what the rest leaves unless model.activationBudgetMB says otherwise.
  const plan = onDevice ? devicePlan(base.config, c) : null;
  if (plan) log(describePlan(plan, base.config, c));
  if (c.rollout.benchLengths) {
    log(`rollout.benchLengths [${c.rollout.benchLengths.join(", ")}]: responses end at drawn lengths whatever the model generates (a benchmark, not training)`);
  }
  const activationBudget = c.model.activationBudgetMB !== undefined ? c.model.activationBudgetMB * 2 ** 20 : plan?.activationBudget;
  const engineOpts = {
    backend: c.model.backend,
    ...(onDevice ? { device: c.model.device } : {}),
    ...(c.model.backend !== "cpu" && c.model.bf16Gemm ? { bf16Gemm: true } : {}),
    ...(activationBudget !== undefined ? { activationBudgetBytes: activationBudget } : {}),
  };
  const engine = (weights: typeof actorWeights) => {
    try {
      return Engine.fromWeights(base.config, weights, engineOpts);
    } catch (e) {
      throw outOfMemoryStop(e, startStep, "setup", c, found ? { step: startStep, dir: found.dir } : null) ?? e;
    }
  };
  const actor = engine(actorWeights);
  if (loaded) actor.loadOptimizerState(loaded.optimizer);
  // The frozen reference is the initial model, only needed for the KL loss.
  const ref = loss.klCoef > 0 ? engine(base.weights!) : null;
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
  checkGolds(rows, c.data.train);
  if (c.data.wrongLabels) rows = applyWrongLabels(rows, new Map(), c.data.wrongLabelSeed);
  if (c.data.wrongLabel !== null) rows = applyFixedLabel(rows, c.data.wrongLabel, c.data.train);
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
  const longest = prompts.reduce((m, p) => Math.max(m, p.ids.length), 0);
  if (longest + c.data.maxResponseLength > context) {
    throw new ConfigError(
      `config key "data.maxResponseLength": ${c.data.maxResponseLength} new tokens after the longest prompt (${longest} tokens) exceed the model's ` +
        `max_position_embeddings (${context}, in ${join(c.model.path, "config.json")}): set data.maxResponseLength <= ${Math.max(0, context - longest)}` +
        (longest > 1 ? ` (or lower data.maxPromptLength to drop long prompts)` : ""),
      "data.maxResponseLength",
    );
  }

  const evalSets: EvalSet[] = c.trainer.testFreq > 0 || c.eval.beforeTrain ? loadEvalSets(c.eval.benchmarks, c.eval.files, c.eval.limit) : [];
  const pool = new VerifierPool({ size: c.reward.workers, timeoutMs: c.reward.timeoutMs });
  const rewardFn = opts.reward ?? verifierReward(pool, { formatReward: c.reward.formatReward, timeoutMs: c.reward.timeoutMs, grader: c.reward.grader });
  const stopIds = stopTokenIds(tok, base.eosTokenIds);

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
  const loggers = new RunLoggers(runDir, {
    loggers: c.trainer.loggers, project: c.trainer.project, experiment: c.trainer.experiment ?? basename(runDir),
    rolloutsFreq: c.trainer.rolloutsFreq, totalSteps, ...(found ? { resumeStep: startStep } : {}),
  });

  const evalCtx = {
    engine: actor, tokenizer: tok, eosIds: stopIds, systemPrompt: c.eval.systemPrompt,
    maxNewTokens: c.eval.maxNewTokens, maxBatch: c.rollout.maxBatch, seed: deriveSeed(c.trainer.seed, 0x7e57), pool, timeoutMs: c.reward.timeoutMs,
    grader: c.eval.grader,
  };
  const runEval = async (step: number) => {
    emit({ type: "phase", step, phase: "eval" });
    const results = await evaluate(evalCtx, evalSets, {
      onDecodeStep: (p, seconds) => emit({ type: "progress", step, phase: "eval", done: p.rowsDone, total: p.rowsTotal, tokens: p.tokens, seconds }),
    });
    appendLine(evalPath, { step, time: now(), test: results });
    loggers.eval(step, results);
    emit({ type: "eval", step, results });
    return results;
  };

  let lastCheckpoint: { step: number; dir: string } | null = found ? { step: startStep, dir: found.dir } : null;
  const guard = new DivergenceGuard(c.guard, base.config.vocabSize);
  // `fromStart`: the reason was measured on the weights the step started from (its rollout and
  // forward passes), so a checkpoint of the step before holds them too
  const diverged = (step: number, reason: string, fromStart = false) =>
    new DivergenceError(
      `training diverged at step ${step}: ${reason}. Nothing from step ${step} was saved; ` +
        (!lastCheckpoint
          ? "no checkpoint was written yet"
          : fromStart && lastCheckpoint.step === step - 1
            ? `the newest checkpoint ${lastCheckpoint.dir} (step ${lastCheckpoint.step}) holds the weights this was measured on: move it away to resume from the one before`
            : `the last good checkpoint is ${lastCheckpoint.dir} (step ${lastCheckpoint.step})`) +
        `. Lower actor.lr (now ${c.actor.lr}) or keep actor.gradClip on (now ${c.actor.gradClip}), then continue with --resume --set actor.lr=... ` +
        `(or start over); the guard's limits are the config keys guard.* (see --print-config)`,
      step,
      reason,
    );

  const saveAt = async (step: number) => {
    emit({ type: "phase", step, phase: "checkpoint" });
    const state: TrainerState = {
      version: 1, step, adamwSteps, seed: c.trainer.seed, elapsed: now(),
      epochCounts: [...epochCounts].map(([i, [a, b]]) => [i, a, b]), epoch: countsEpoch, tokens: tokensTotal,
      optimizerFile: OPTIMIZER_FILE, savedAt: new Date().toISOString(),
    };
    const weights = actor.exportWeights(), optimizer = actor.optimizerState();
    const criticState = critic ? { weights: critic.exportWeights(), optimizer: critic.optimizerState() } : null;
    // never save a diverged state as progress (the data is copied for the write anyway)
    const bad = checkState(weightArrays(weights), optimizer, c.guard.maxWeightAbs) ??
      (criticState ? checkState(weightArrays(criticState.weights), criticState.optimizer, 0) : null);
    if (bad) throw diverged(step, bad);
    const dir = await writeTrainerCheckpoint(
      runDir,
      {
        config: base.config, weights, tokenizerDir: base.dir, rawConfig: base.rawConfig,
        ...(base.generationConfig ? { rawGenerationConfig: base.generationConfig.raw } : {}),
        dtype: c.model.checkpointDtype === "float32" ? "F32" : "BF16",
      },
      state,
      history.toText(),
      optimizer,
      criticState ? { ...criticState, rawConfig: base.rawConfig } : undefined,
    );
    lastCheckpoint = { step, dir };
    if (c.trainer.keepCheckpoints !== null) pruneCheckpoints(runDir, c.trainer.keepCheckpoints);
    loggers.flush(); // the event file is durable up to the checkpoint it belongs with
    emit({ type: "checkpoint", step, dir });
  };

  // the partial checkpoints of crashed writes are dead weight once a resume has succeeded
  if (found) {
    for (const left of checkpointLeftovers(runDir)) {
      rmSync(left, { recursive: true, force: true });
      log(`removed ${left} (an interrupted checkpoint write)`);
    }
  }

  const aborted = () => opts.signal?.aborted === true;
  let updatesThisStep = 0; // optimizer steps taken in the step in progress
  const checkEveryUpdate = checksEveryUpdate(c);
  let stopReason: StopReason = "completed";
  try {
    if (startStep === 0 && c.eval.beforeTrain && evalSets.length > 0) await runEval(0);
    let ran = 0;
    for (let step = startStep + 1; step <= totalSteps; step++) {
      if (aborted()) {
        stopReason = "interrupted";
        break;
      }
      if (opts.maxStepsThisRun !== undefined && ran >= opts.maxStepsThisRun) {
        stopReason = "max-steps";
        break;
      }
      const stepStart = performance.now();
      const epoch = Math.floor((step - 1) / batchesPerEpoch);
      const k = (step - 1) % batchesPerEpoch;
      if (epoch !== countsEpoch) {
        flushEpoch(history, epochCounts);
        epochCounts = new Map();
        countsEpoch = epoch;
        withPath(historyPath, "write", () => history.write(historyPath));
      }
      const order = epochOrder(prompts.length, c.trainer.seed, epoch, c.data.shuffle);
      const batch = Array.from({ length: c.data.trainBatchSize }, (_, i) => prompts[order[k * c.data.trainBatchSize + i]!]!);

      let r: Awaited<ReturnType<typeof trainStep>>;
      updatesThisStep = 0;
      try {
        r = await trainStep(step, batch);
      } catch (e) {
        // an engine error on NaN/Inf values: name the cause when it is the weights
        if (e instanceof DivergenceError || !(e instanceof Error) || e.name === "RunFileError") throw e;
        const bad = checkEngine(actor, c.guard.maxWeightAbs);
        if (bad) throw diverged(step, `${bad} (the step failed with: ${e.message})`);
        if (/\b(NaN|inf|non-finite)\b/i.test(e.message)) throw diverged(step, `the model's outputs are not finite: ${e.message}`, updatesThisStep === 0);
        throw e;
      }
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
        withPath(historyPath, "write", () => history.write(historyPath));
      }

      const metrics = { ...r.metrics, step, epoch, time: 0 } as StepMetrics;
      const reason = guard.afterStep({
        updates: r.metrics.optimizer_steps as number, skipped: r.metrics.skipped_updates as number,
        entropy: r.entropyRaw, entropyFinite: Number.isFinite(r.entropyRaw),
      });
      const last = step === totalSteps;
      if (reason === null && evalSets.length > 0 && c.trainer.testFreq > 0 && (step % c.trainer.testFreq === 0 || last)) {
        const t = performance.now();
        metrics.test = await runEval(step);
        metrics.eval_s = (performance.now() - t) / 1000;
      }
      metrics.time = now();
      metrics.step_s = (performance.now() - stepStart) / 1000; // the whole step, evaluation included
      if (reason !== null) (metrics as Record<string, unknown>).diverged = reason;
      appendStepMetrics(metricsPath, metrics);
      loggers.step(metrics);
      if (r.rolloutRecords) withPath(join(runDir, ROLLOUTS_DIR), "write", () => loggers.rollouts(step, r.rolloutRecords!));
      written.push(metrics);
      ran++;
      emit({ type: "step", metrics, stepSeconds: (performance.now() - stepStart) / 1000, totalSteps });
      if (reason !== null) throw diverged(step, reason, true);
      if ((c.trainer.saveFreq > 0 && step % c.trainer.saveFreq === 0) || last) await saveAt(step);
    }
    // an early stop always ends with a checkpoint of the last finished step
    const lastStep = written.at(-1)?.step ?? startStep;
    if (lastStep > (lastCheckpoint?.step ?? 0)) await saveAt(lastStep);
  } catch (e) {
    throw outOfMemoryStop(e, inProgress.step, inProgress.phase, c, lastCheckpoint) ?? e;
  } finally {
    await pool.close();
    loggers.close();
  }
  return {
    runDir, lastStep: written.at(-1)?.step ?? startStep, metrics: written, resumedFrom: found?.dir ?? null,
    stopReason, checkpoint: lastCheckpoint?.dir ?? null, viewHints: loggers.viewHints(),
  };

  // --- one step ----------------------------------------------------------------------------
  async function trainStep(step: number, batch: PromptRow[]) {
    const phase: StepMetrics["phase_s"] = { rollout: 0, reward: 0, old_logp: 0, ref_logp: 0, update: 0, ...(critic ? { values: 0, critic: 0 } : {}) };
    // on a GPU: the most device memory each phase held (GiB), from rlvr's own allocations
    const peakGiB: Record<string, number> = {};
    const peakFrom = () => onDevice && resetDeviceMemoryPeak(c.model.device);
    const peakTo = (name: string) => {
      if (onDevice) peakGiB[name] = Math.max(peakGiB[name] ?? 0, deviceMemory(c.model.device).peak / 2 ** 30);
    };
    const timed = async <T>(name: keyof typeof phase, fn: () => Promise<T> | T): Promise<T> => {
      emit({ type: "phase", step, phase: name });
      const t = performance.now();
      peakFrom();
      try {
        return await fn();
      } finally {
        phase[name] = (phase[name] ?? 0) + (performance.now() - t) / 1000;
        peakTo(name);
      }
    };
    const progress = (p: "rollout" | "update" | "critic", t0: number, done: number, total: number, tokens?: number) =>
      emit({ type: "progress", step, phase: p, done, total, ...(tokens !== undefined ? { tokens } : {}), seconds: (performance.now() - t0) / 1000 });
    const n = c.rollout.n, tau = c.rollout.temperature;
    const scoring = { maxRows: c.actor.logProbMicroBatchSize, maxTokens: c.actor.logProbMaxTokens };
    // on a GPU the last update's (and evaluation's) workspaces go before the rollout's KV cache
    // is allocated (the memory plan gives the two phases the same memory); on the host they are
    // kept, since allocating them again each step costs page faults
    if (onDevice) for (const e of [actor, ref, critic]) e?.releaseWorkspace();

    // rollout: prompt-major, row p·n + k is sample k of prompt row p (its group id is p)
    const rolloutStart = performance.now();
    const samples = await timed("rollout", () =>
      generate(engineStepModel(actor, { maxNewTokens: c.data.maxResponseLength }), batch.map((b) => b.ids), {
        n, temperature: tau, topP: c.rollout.topP, topK: c.rollout.topK, maxNewTokens: c.data.maxResponseLength,
        ...(c.rollout.benchLengths ? { forcedLengths: benchLengths(c.rollout.benchLengths, batch.length * n, deriveSeed(c.trainer.seed, step)) } : {}),
        eosIds: stopIds, seed: deriveSeed(c.trainer.seed, step), maxBatch: c.rollout.maxBatch, decode,
        onDecodeStep: (p) => progress("rollout", rolloutStart, p.rowsDone, p.rowsTotal, p.tokens),
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
    const oldLogp = await timed("old_logp", async () =>
      recomputesOldLogp(c) ? (await scoreRollouts(actor, rollouts, W, tau, scoring, distinct)).logp : toResponseLayout(rollouts.map((r) => r.oldLogp), W),
    );
    const refLogp = ref ? await timed("ref_logp", async () => (await scoreRollouts(ref, rollouts, W, tau, scoring, distinct)).logp) : undefined;
    const values = critic ? await timed("values", () => criticValues(critic!, rollouts, W, scoring, c.actor.packSequences, distinct)) : null;
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
      const criticBatches = { miniBatch: c.actor.ppoMiniBatchSize * n, microBatch: c.actor.microBatchSize, maxTokensPerMicroBatch: c.actor.maxTokensPerMicroBatch, ppoEpochs: c.actor.ppoEpochs };
      const total = microBatchCount(rollouts, criticBatches), t0 = performance.now();
      let done = 0;
      cstats = await timed("critic", () =>
        updateCritic(critic!, { rollouts, width: W, mask, oldValues: values!, returns: returns! }, {
          clip: c.critic.cliprangeValue, ...criticBatches, pack: c.actor.packSequences,
          optimizer: { lr: c.critic.lr, beta1: c.actor.betas[0], beta2: c.actor.betas[1], eps: c.actor.eps, weightDecay: c.critic.weightDecay, maxGradNorm: c.critic.gradClip },
        }, () => progress("critic", t0, ++done, total)),
      );
      if (onDevice) critic.releaseWorkspace(); // the actor's update gets the activation memory next
    }
    const actorFrozen = critic !== null && step <= c.critic.warmupSteps;
    const actorBatches = { miniBatch: c.actor.ppoMiniBatchSize * n, microBatch: c.actor.microBatchSize, maxTokensPerMicroBatch: c.actor.maxTokensPerMicroBatch, ppoEpochs: actorFrozen ? 1 : c.actor.ppoEpochs };
    const update = updatePolicySteps(actor, { rollouts, width: W, mask, advantages, oldLogp, ...(refLogp ? { refLogp } : {}) }, {
        temperature: tau, pgCoef: loss.pgCoef, klCoef: loss.klCoef, klType: c.actor.klType, entropyCoeff: loss.entropyCoeff,
        clipLow: c.actor.clipLow, clipHigh: c.actor.clipHigh, dualClip: c.actor.dualClip, lossAgg: c.actor.lossAgg,
        aggHorizon: c.data.maxResponseLength,
        ...actorBatches,
        optimizer: { lr, beta1: c.actor.betas[0], beta2: c.actor.betas[1], eps: c.actor.eps, weightDecay: loss.weightDecay, maxGradNorm: c.actor.gradClip },
        ...(actorFrozen ? { step: false } : {}),
        pack: c.actor.packSequences,
      });
    // the update, one engine call at a time: after each optimizer step the weights and moments are
    // checked (guard.checkEveryUpdate)
    emit({ type: "phase", step, phase: "update" });
    peakFrom();
    const microTotal = microBatchCount(rollouts, actorBatches), updateStart = performance.now();
    let microDone = 0;
    let stats: UpdateStats;
    for (;;) {
      const t = performance.now();
      const r = await update.next();
      phase.update += (performance.now() - t) / 1000;
      if (r.done) {
        stats = r.value;
        break;
      }
      if (r.value.kind === "micro") progress("update", updateStart, ++microDone, microTotal);
      if (r.value.kind === "step") updatesThisStep = r.value.stepped;
      if (r.value.kind === "step" && checkEveryUpdate) {
        const bad = checkEngine(actor, c.guard.maxWeightAbs);
        if (bad) throw diverged(step, `after optimizer update ${r.value.stepped} of the step: ${bad}`);
      }
    }

    peakTo("update");
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
      ...(onDevice ? { device_peak_gib: peakGiB } : {}),
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
      // prompt + response tokens of the rollouts: what one training epoch over them computes
      trained_tokens: rollouts.reduce((a, r) => a + r.promptIds.length + r.responseIds.length, 0),
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
    // what the model wrote, for rollouts/step-NNNNNN.jsonl (built only on the steps that save it)
    const rolloutRecords: RolloutRecord[] | null = loggers.wantsRollouts(step)
      ? rollouts.map((r, i) => ({
          step, example: r.exampleIndex, prompt: decode(r.promptIds), response: r.text, reward: scores[i]!, correct: rewards[i]!.correct,
          extracted: rewards[i]!.extracted ?? null, gold: r.gold, finish_reason: r.finishReason, length: r.responseIds.length,
        }))
      : null;
    return { metrics, tokens: genTokens, correctByExample, entropyRaw: maskedMean(stats.tokenEntropy, mask), rolloutRecords };
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
  appendLineNoFollow(path, `${JSON.stringify(obj)}\n`);
}

/** Validates a step's metrics and appends them to metrics.jsonl (never through a link). */
function appendStepMetrics(path: string, m: StepMetrics): void {
  appendLine(path, parseStepMetrics(m, `metrics record for step ${String(m.step)}`));
}

function assertFolderOrMissing(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new RunFileError(`${path} must be a folder (not a link or a file): remove or rename it`, path);
}

/**
 * Keeps the lines of a JSONL run file whose `step` is <= `step` (rewritten atomically) and moves
 * the others into `aside` in the run folder. An unreadable last line (a crash mid-append) goes
 * aside too; an unreadable line before it is damage, not a crash, and fails loudly (naming the
 * file and line) instead of being moved away silently.
 */
function trimJsonl(path: string, step: number, aside: string, runDir: string): void {
  if (!existsSync(path)) return;
  const text = withPath(path, "read", () => readFileSync(path, "utf8"));
  const lines = text.split("\n").map((t, i) => ({ t, line: i + 1 })).filter((l) => l.t.trim() !== "");
  const keep: string[] = [], drop: string[] = [];
  lines.forEach(({ t, line }, i) => {
    let s: number;
    try {
      s = (JSON.parse(t) as { step?: number }).step ?? Number.POSITIVE_INFINITY;
    } catch {
      if (i < lines.length - 1) {
        throw new RunFileError(
          `${path}:${line}: not valid JSON, and not the last line (so not a write cut short by a crash): repair or delete that line, then --resume again`,
          path,
        );
      }
      s = Number.POSITIVE_INFINITY; // a torn last line
    }
    (s <= step ? keep : drop).push(t);
  });
  // validate what is kept (fails loudly on a damaged file instead of appending to it)
  if (keep.length > 0 && path.endsWith(RUN_FILES.metrics)) parseMetricsJsonl(`${keep.join("\n")}\n`, path);
  if (drop.length === 0) return;
  withPath(join(runDir, aside), "write", () => writeFileAtomic(join(runDir, aside), `${drop.join("\n")}\n`));
  withPath(path, "rewrite", () => {
    if (keep.length === 0) rmSync(path);
    else writeFileAtomic(path, `${keep.join("\n")}\n`);
  });
}
