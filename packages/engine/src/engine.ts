// @rlvr/engine: a typed front for the native model engine (OpsModel on the CPU backends or a CUDA device).
import {
  expectedTensorShapes,
  checkTensorShapes,
  loadModelDir,
  readModelConfig,
  ropeInvFreq,
  type ModelConfig,
  type TensorData,
} from "@rlvr/model";
import { type PolicyLossStats, ShapeError, Tensor, ValueError, callNative, loadAddon } from "@rlvr/native";

import type { EngineAddon, NativeEngine } from "./addonTypes.js";
import { CallQueue } from "./callQueue.js";
import { checkEngineMemory } from "./memory.js";

export {
  checkEngineMemory,
  engineHostBytes,
  EngineMemoryError,
  hostMemory,
  parameterCount,
  type EngineMemoryOptions,
  type HostMemory,
} from "./memory.js";

/** B rows x T positions; row r = b*T + t. attentionMask is 1 for real tokens, 0 for padding (left or right). */
export interface BatchInput {
  batch: number;
  length: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  /**
   * Packed sequences (score, forwardBackward, values, valueForwardBackward, logits): [B, T]
   * segment ids, non-decreasing along each row. A token attends only to earlier tokens of its
   * own segment and its position counts from the segment's start, so each sequence is computed
   * bit for bit as alone in its own row. Absent: one sequence per row.
   */
  segmentIds?: Int32Array;
}

export interface ScoreInput extends BatchInput {
  /** targets[b, t]: the token whose log-prob is read at (b, t) (the caller shifts: ids[b, t + 1]). */
  targets: Int32Array;
  /** Rows to score (default: attentionMask); other rows get logp = entropy = 0. */
  scoreMask?: Float32Array;
  /** Logits are divided by this before the log-softmax (default 1). */
  temperature?: number;
}

/** The fused policy objective (see native/src/kernels/kernels.h (h)): total = sum w * (pg + klCoef*kl - entropyCoeff*H). */
export interface LossOptions {
  temperature?: number;
  pgCoef?: number;
  klCoef?: number;
  /** Positive rewards higher entropy (the objective subtracts entropyCoeff * H). */
  entropyCoeff?: number;
  clipLow?: number;
  clipHigh?: number;
  /** 0 = off, else > 1. */
  dualClip?: number;
  klType?: "kl" | "abs" | "mse" | "low_var_kl";
}

export interface ForwardBackwardInput extends ScoreInput, LossOptions {
  /** Aggregation weights with the response mask folded in (e.g. from aggregationWeights); 0 on padding. */
  weights: Float32Array;
  oldLogp?: Float32Array;
  refLogp?: Float32Array;
  advantages?: Float32Array;
}

/** The fused objective's statistics (see @rlvr/native policyLoss) plus per-token outputs. */
export interface ForwardBackwardResult extends PolicyLossStats {
  /** Per-token log-prob / entropy for rows with weight != 0 (0 elsewhere). */
  tokenLogp: Float32Array;
  tokenEntropy: Float32Array;
}

/** The critic's clipped value loss (native/src/kernels/kernels.h (j)); gradients accumulate. */
export interface ValueForwardBackwardInput extends BatchInput {
  /** Aggregation weights (mask folded in) over the rows whose values are trained; 0 on padding. */
  weights: Float32Array;
  /** Values at rollout time (the clip's centre). */
  oldValues: Float32Array;
  returns: Float32Array;
  /** Value clip range c (> 0). Default 0.5. */
  clip?: number;
}

export interface ValueForwardBackwardResult {
  /** sum(w * 0.5 * max((v - R)^2, (clip(v) - R)^2)). */
  loss: number;
  /** Weighted share of rows where the clipped term was the larger. */
  clipFrac: number;
  weightSum: number;
  /** The values this call computed (0 where weight == 0). */
  values: Float32Array;
}

/**
 * Which implementation runs the model (see the package README, "Backends"):
 * OpsModel (native/src/model/ops_model.h, the model written once over the ops interface) on:
 *  - "cpu": the CPU backend (native/src/ops/cpu: multi-threaded SIMD ops, packed GEMM
 *    panels), the default; every feature.
 *  - "ops-cpu": the reference ops ("ref", native/src/ops/ref: single-threaded, fp64 GEMM
 *    accumulation), the ground truth the device ops are checked against; slow.
 *  - "cuda": OpsModel on a CUDA device (parameters, gradients, AdamW state, activations and
 *    the KV cache in device memory; inputs and outputs stay host typed arrays).
 * Every backend has the whole API: packed batches (segmentIds), shared-prompt scoring
 * (scorePrefixed), the value head.
 */
export type EngineBackend = "cpu" | "ops-cpu" | "cuda";

/** Options of Engine.fromWeights / Engine.fromModelDir. */
export interface EngineOptions {
  /**
   * A critic: the same body with a scalar value head (score.weight [1, h], score.bias [1],
   * HF *ForTokenClassification with num_labels 1) instead of the LM head. A head absent from
   * the weights starts at zero (values 0), so a critic can start from the actor's weights.
   * Every backend (OpsModel: native/src/model/ops_value_head.cpp).
   */
  valueHead?: boolean;
  /** The implementation (default "cpu"); see EngineBackend. */
  backend?: EngineBackend;
  /**
   * CUDA device ordinal for backend "cuda" (default 0); a ValueError with any other backend.
   * Creating a "cuda" engine without that device (or in a build without CUDA) throws a DeviceError.
   */
  device?: number;
  /**
   * Backends "ops-cpu" and "cuda" only: every linear-layer GEMM takes bf16 operands
   * (a bf16 copy of the weights, activations cast before the GEMM) with fp32 accumulation;
   * master weights, gradients, AdamW, norms, attention and the loss stay fp32. Default false
   * (fp32 GEMMs, comparable with "cpu" to fp32 rounding). A ValueError with "cpu".
   */
  bf16Gemm?: boolean;
  /**
   * Bytes a training pass (forwardBackward, valueForwardBackward) may spend keeping every
   * layer's activations for the backward; past it each layer's forward is recomputed right
   * before its backward (the same gradients bit for bit, one extra forward). Default: the
   * backend's (1 GiB on the CPU backends, 40 GiB on "cuda"). A ValueError when negative.
   */
  activationBudgetBytes?: number;
  /** The model directory, named in errors (e.g. EngineMemoryError); Engine.fromModelDir sets it. */
  modelDir?: string;
}

/** Tensor names and shapes of a critic (value-head engine) for `config`. */
export function criticTensorShapes(config: ModelConfig): Map<string, number[]> {
  const shapes = new Map(expectedTensorShapes(config));
  shapes.delete("lm_head.weight");
  shapes.set("score.weight", [1, config.hiddenSize]);
  shapes.set("score.bias", [1]);
  return shapes;
}

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Global gradient-norm clip; <= 0 disables. Default 1. */
  maxGradNorm?: number;
}

export interface StepResult {
  /** Global L2 gradient norm before clipping. */
  gradNorm: number;
  /** True when the norm was not finite: no update was made (gradients are zeroed anyway). */
  skipped: boolean;
  /** AdamW steps taken so far. */
  step: number;
}

function addon(): EngineAddon {
  return loadAddon() as unknown as EngineAddon;
}

function bt(x: BatchInput, data: Float32Array | Int32Array, name: string): Tensor {
  if (data.length !== x.batch * x.length) {
    throw new ShapeError(`${name}: expected ${x.batch}x${x.length} = ${x.batch * x.length} values, got ${data.length}`, "ERR_RLVR_SHAPE", name);
  }
  return Tensor.from(data, [x.batch, x.length]);
}

function batchArgs(x: BatchInput) {
  return {
    inputIds: bt(x, x.inputIds, "inputIds"),
    attentionMask: bt(x, x.attentionMask, "attentionMask"),
    ...(x.segmentIds ? { segmentIds: bt(x, x.segmentIds, "segmentIds") } : {}),
  };
}

export type RolloutFinish = "eos" | "length" | "context";

/** A rollout batch for Engine.decode.rollout: every prompt sampled `n` times. */
export interface RolloutInput {
  prompts: readonly Int32Array[];
  /** samples per prompt; row p·n + k is prompt p, sample k (default 1) */
  n?: number;
  /** 0 = greedy (default 1) */
  temperature?: number;
  topP?: number;
  topK?: number;
  maxNewTokens: number;
  eosIds?: readonly number[];
  /** benchmarks: EOS does not end a sequence (each runs to maxNewTokens or the context) */
  ignoreEos?: boolean;
  /**
   * benchmarks: one length per row; row r ends ("eos") once it has forcedLengths[r] tokens,
   * EOS ids ignored (@rlvr/sampler's GenerateOptions.forcedLengths)
   */
  forcedLengths?: Int32Array;
  /** the uniform of row r at its step t is counterUniform(seed, r, t) (@rlvr/sampler's rng) */
  seed?: number;
  /** temperature of the returned log-probs (default: temperature, 1 for greedy) */
  logprobTemperature?: number;
  /** sequences decoded at once: the KV pool's rows (default 64); results do not depend on it */
  slots?: number;
  /** after the first samples and after each decode step, from the native loop (asynchronously) */
  onProgress?: (p: { rowsDone: number; tokens: number }) => void;
  /**
   * aborting stops the rollout at its next decode step and the promise rejects (ValueError
   * "signal"); aborted before the call starts, it rejects with signal.reason
   */
  signal?: AbortSignal;
}

/** Flat results over rows 0 .. prompts·n − 1: row r is [offsets[r], offsets[r + 1]). */
export interface RolloutOutput {
  tokens: Int32Array;
  logprobs: Float32Array;
  offsets: Float64Array;
  finish: RolloutFinish[];
}

const FINISH: readonly RolloutFinish[] = ["eos", "length", "context"];

/** The native rollout's uniforms (tests compare them with @rlvr/sampler's counterUniform). */
export function rolloutUniforms(seed: number, streams: Float64Array, steps: Float64Array): Float32Array {
  return callNative(() => addon().counterUniforms({ seed: seed >>> 0, streams, steps }));
}

/** AdamW state: the step count (bias correction) and each parameter's first/second moments. */
export interface OptimizerState {
  step: number;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

/**
 * The model engine: fp32 parameters, gradients and AdamW state live in native (or device)
 * memory; only per-token values (and [B, V] decode logits) cross into JavaScript.
 *
 * The long calls (score, scorePrefixed, logitsForTesting, forwardBackward, values,
 * valueForwardBackward, optimizerStep, decode.prefill, decode.step, decode.rollout) are async: the work runs off
 * the JavaScript thread, so the event loop keeps turning (timers, signals, progress output). Calls
 * on one engine run one at a time in call order; every failure, a bad argument included, rejects
 * the promise with the typed error (ShapeError, ValueError, ...). The input arrays are read when
 * the call starts running (after the calls queued before it): leave them unchanged until the
 * promise settles. The other methods are synchronous (cheap copies and settings) and throw a
 * ValueError naming "engine" while async calls are queued or running.
 */
export class Engine {
  readonly config: ModelConfig;
  /** True for a critic (value head instead of the LM head). */
  readonly valueHead: boolean;
  /** The implementation running the model (EngineOptions.backend). */
  readonly backend: EngineBackend;
  /** Whether decode.rollout runs here: every backend, for a policy (a critic has no LM head). */
  readonly nativeRollout: boolean;
  private readonly native: NativeEngine;
  private readonly names: string[];
  private readonly calls = new CallQueue();

  private constructor(config: ModelConfig, native: NativeEngine, valueHead: boolean) {
    this.config = config;
    this.native = native;
    this.valueHead = valueHead;
    this.backend = native.backend() as EngineBackend;
    this.nativeRollout = native.supportsRollout();
    this.names = native.paramInfo().map((p) => p.name);
  }

  /**
   * An engine with the given weights (HF names, f32), checked against config by @rlvr/model;
   * with `valueHead`, a critic (see EngineOptions).
   */
  static fromWeights(config: ModelConfig, tensors: ReadonlyMap<string, TensorData>, opts: EngineOptions = {}): Engine {
    const valueHead = opts.valueHead === true;
    checkEngineMemory(config, { ...opts, valueHead }, opts.modelDir ?? "the model");
    let shapes: Map<string, number[]>;
    if (valueHead) {
      shapes = criticTensorShapes(config);
      const wrong = [...shapes]
        .filter(([n, sh]) => tensors.has(n) && tensors.get(n)!.shape.join(",") !== sh.join(","))
        .map(([n, sh]) => `${n}: expected [${sh.join(", ")}], got [${tensors.get(n)!.shape.join(", ")}]`);
      const missing = [...shapes.keys()].filter((n) => !tensors.has(n) && !n.startsWith("score."));
      if (wrong.length + missing.length > 0) {
        throw new ShapeError(`critic weights: ${[...missing.map((n) => `missing ${n}`), ...wrong].join("; ")}`, "ERR_RLVR_SHAPE", "weights");
      }
    } else {
      checkTensorShapes("weights", new Map([...tensors].map(([n, t]) => [n, t.shape])), config);
      shapes = expectedTensorShapes(config);
    }
    const native = callNative(
      () =>
        new (addon().Engine)({
          vocabSize: config.vocabSize,
          hiddenSize: config.hiddenSize,
          intermediateSize: config.intermediateSize,
          numLayers: config.numLayers,
          numHeads: config.numHeads,
          numKvHeads: config.numKvHeads,
          headDim: config.headDim,
          rmsNormEps: config.rmsNormEps,
          attentionBias: config.attentionBias,
          qkNorm: config.qkNorm,
          tieWordEmbeddings: config.tieWordEmbeddings,
          invFreq: ropeInvFreq(config),
          valueHead,
          ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
          ...(opts.device !== undefined ? { device: opts.device } : {}),
          ...(opts.activationBudgetBytes !== undefined ? { activationBudgetBytes: opts.activationBudgetBytes } : {}),
          ...(opts.bf16Gemm !== undefined ? { bf16Gemm: opts.bf16Gemm } : {}),
        }),
    );
    for (const name of shapes.keys()) {
      const t = tensors.get(name);
      if (t) callNative(() => native.setParam(name, t.data));
    }
    return new Engine(config, native, valueHead);
  }

  /** Loads a Hugging Face model directory (config.json + safetensors) through @rlvr/model. */
  static async fromModelDir(dir: string, opts: EngineOptions = {}): Promise<Engine> {
    // before the weights are read: they alone take 4 bytes a parameter
    const { config } = await readModelConfig(dir);
    checkEngineMemory(config, { ...opts, includeLoadedWeights: true }, dir);
    const m = await loadModelDir(dir);
    return Engine.fromWeights(m.config, m.weights!, { ...opts, modelDir: opts.modelDir ?? dir });
  }

  get numParameters(): number {
    return this.native.numParameters();
  }

  /** HF parameter names in the engine's order (lm_head.weight is absent when tied). */
  parameterNames(): string[] {
    return [...this.names];
  }

  /** Per-token log-prob and entropy of `targets` at `temperature` (no gradient). */
  score(x: ScoreInput): Promise<{ logp: Float32Array; entropy: Float32Array }> {
    return this.calls.run(async () =>
      this.native.score({
        ...batchArgs(x),
        targets: bt(x, x.targets, "targets"),
        scoreMask: x.scoreMask ? bt(x, x.scoreMask, "scoreMask") : undefined,
        temperature: x.temperature ?? 1,
      }),
    );
  }

  /**
   * score() for sequences that share prompts, running each shared prefix once. `prefix` holds
   * the shared parts (each row >= 1 real token); row i of the batch continues prefix `group[i]`
   * (its real tokens first). Outputs are over the batch's [B, T] rows and equal score() on the
   * concatenated sequences: bit for bit on backend "cpu", up to fp32 summation order on the
   * OpsModel backends. GRPO's n samples per prompt share the prompt minus its last token (that
   * token's logits score the first response token).
   */
  scorePrefixed(x: ScoreInput & { prefix: BatchInput; group: Int32Array }): Promise<{ logp: Float32Array; entropy: Float32Array }> {
    return this.calls.run(async () => {
      if (x.group.length !== x.batch) {
        throw new ShapeError(`group: expected ${x.batch} prefix indices, got ${x.group.length}`, "ERR_RLVR_SHAPE", "group");
      }
      return this.native.scorePrefixed({
        prefixIds: bt(x.prefix, x.prefix.inputIds, "prefixIds"),
        prefixMask: bt(x.prefix, x.prefix.attentionMask, "prefixMask"),
        ...batchArgs(x),
        group: Tensor.from(x.group),
        targets: bt(x, x.targets, "targets"),
        scoreMask: x.scoreMask ? bt(x, x.scoreMask, "scoreMask") : undefined,
        temperature: x.temperature ?? 1,
      });
    });
  }

  /** Full logits [B*T*V] at temperature 1 (tests and debugging only; capped at 2^24 values). */
  logitsForTesting(x: BatchInput): Promise<Float32Array> {
    return this.calls.run(async () => this.native.logits(batchArgs(x)));
  }

  /**
   * Forward + backward of the policy objective; gradients ACCUMULATE (call it once per
   * micro-batch, with weights scaled for the whole mini-batch, then optimizerStep).
   */
  forwardBackward(x: ForwardBackwardInput): Promise<ForwardBackwardResult> {
    const opt = (d: Float32Array | undefined, n: string) => (d ? bt(x, d, n) : undefined);
    return this.calls.run(async () =>
      this.native.forwardBackward({
        ...batchArgs(x),
        targets: bt(x, x.targets, "targets"),
        weights: bt(x, x.weights, "weights"),
        oldLogp: opt(x.oldLogp, "oldLogp"),
        refLogp: opt(x.refLogp, "refLogp"),
        advantages: opt(x.advantages, "advantages"),
        temperature: x.temperature ?? 1,
        pgCoef: x.pgCoef ?? 1,
        klCoef: x.klCoef ?? 0,
        entropyCoeff: x.entropyCoeff ?? 0,
        clipLow: x.clipLow ?? 0.2,
        clipHigh: x.clipHigh ?? 0.2,
        dualClip: x.dualClip ?? 0,
        klType: x.klType ?? "low_var_kl",
      }),
    );
  }

  /** Critic: per-row values (score.w · final hidden + score.b) for rows in scoreMask (default attentionMask), 0 elsewhere. */
  values(x: BatchInput & { scoreMask?: Float32Array }): Promise<Float32Array> {
    return this.calls.run(async () =>
      this.native.values({ ...batchArgs(x), scoreMask: x.scoreMask ? bt(x, x.scoreMask, "scoreMask") : undefined }),
    );
  }

  /**
   * Critic: forward + backward of the clipped value loss; gradients ACCUMULATE (one call per
   * micro-batch with weights scaled for the mini-batch, then optimizerStep).
   */
  valueForwardBackward(x: ValueForwardBackwardInput): Promise<ValueForwardBackwardResult> {
    return this.calls.run(async () =>
      this.native.valueForwardBackward({
        ...batchArgs(x),
        weights: bt(x, x.weights, "weights"),
        oldValues: bt(x, x.oldValues, "oldValues"),
        returns: bt(x, x.returns, "returns"),
        clip: x.clip ?? 0.5,
      }),
    );
  }

  /** Clip the global grad norm, AdamW (decoupled decay, bias correction), zero the gradients. */
  optimizerStep(o: AdamWOptions): Promise<StepResult> {
    return this.calls.run(async () =>
      this.native.optimizerStep({
        lr: o.lr,
        beta1: o.beta1 ?? 0.9,
        beta2: o.beta2 ?? 0.999,
        eps: o.eps ?? 1e-8,
        weightDecay: o.weightDecay ?? 0.01,
        maxGradNorm: o.maxGradNorm ?? 1,
      }),
    );
  }

  /** Rows per LM-head chunk (0 = automatic, ~128 MB of logits). Mostly for tests. */
  setLmChunkRows(rows: number): void {
    this.calls.assertIdle("setLmChunkRows");
    callNative(() => this.native.setLmChunkRows(rows));
  }

  /**
   * Whether the last training pass kept every layer's activations for the backward (within
   * EngineOptions.activationBudgetBytes) rather than recomputing them per layer; false before any.
   */
  keptActivations(): boolean {
    this.calls.assertIdle("keptActivations");
    return callNative(() => this.native.keptActivations());
  }

  /**
   * Frees the memory the engine keeps between calls for speed (kept activations, LM-head chunk,
   * decode logits); the next call allocates what it needs again. Weights, gradients, optimizer
   * state and an active decode's KV cache stay. Results do not change. The trainer calls it on
   * "cuda" between the update and the next rollout, so the KV cache can use that memory.
   */
  releaseWorkspace(): void {
    this.calls.assertIdle("releaseWorkspace");
    callNative(() => this.native.releaseWorkspace());
  }

  zeroGrad(): void {
    this.calls.assertIdle("zeroGrad");
    callNative(() => this.native.zeroGrad());
  }

  /** Global L2 norm of the accumulated gradients. */
  gradNorm(): number {
    this.calls.assertIdle("gradNorm");
    return callNative(() => this.native.gradNorm());
  }

  /** A copy of one parameter's accumulated gradient. */
  gradient(name: string): Float32Array {
    this.calls.assertIdle("gradient");
    return callNative(() => this.native.getGrad(name));
  }

  /** A copy of one parameter. */
  parameter(name: string): Float32Array {
    this.calls.assertIdle("parameter");
    return callNative(() => this.native.getParam(name));
  }

  /** Overwrites one parameter (f32, finite). */
  setParameter(name: string, data: Float32Array): void {
    this.calls.assertIdle("setParameter");
    callNative(() => this.native.setParam(name, data));
  }

  /** AdamW state (step count and per-parameter moments), for checkpoints that resume bit for bit. */
  optimizerState(): OptimizerState {
    this.calls.assertIdle("optimizerState");
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    let step = 0;
    for (const name of this.parameterNames()) {
      const s = callNative(() => this.native.getAdamState(name));
      step = s.step;
      moments.set(name, { m: s.m, v: s.v });
    }
    return { step, moments };
  }

  /** Restores optimizerState(); every parameter must be present. */
  loadOptimizerState(state: OptimizerState): void {
    this.calls.assertIdle("loadOptimizerState");
    const names = this.parameterNames();
    const missing = names.filter((n) => !state.moments.has(n));
    if (missing.length > 0) throw new ShapeError(`optimizer state: missing moments for ${missing.join(", ")}`, "ERR_RLVR_SHAPE", "moments");
    for (const name of names) {
      const { m, v } = state.moments.get(name)!;
      callNative(() => this.native.setAdamState(name, state.step, m, v));
    }
  }

  /** Every parameter by HF name, as @rlvr/model's saveCheckpoint takes them. */
  exportWeights(): Map<string, TensorData> {
    const shapes = this.valueHead ? criticTensorShapes(this.config) : expectedTensorShapes(this.config);
    this.calls.assertIdle("exportWeights");
    const out = new Map<string, TensorData>();
    for (const [name, shape] of shapes) out.set(name, { shape, data: callNative(() => this.native.getParam(name)) });
    return out;
  }

  /** KV-cache decoding for the sampler. */
  readonly decode = {
    /**
     * Runs the prompts and keeps their K/V (room for `capacity` positions per row, prompt
     * included). Returns the next-token logits [B*V] at each row's last real token.
     */
    prefill: (x: BatchInput & { capacity: number }): Promise<Float32Array> =>
      this.calls.run(async () => this.native.prefill({ ...batchArgs(x), capacity: x.capacity })),
    /** Appends one token per row; returns the next-token logits [B*V]. */
    step: (tokens: Int32Array): Promise<Float32Array> => this.calls.run(async () => this.native.step({ tokens: Tensor.from(tokens) })),
    /**
     * A whole rollout batch in one native call (every backend; a critic rejects with the LM-head
     * paths' ValueError naming "engine"): continuous batching over `slots` sequences, each distinct
     * prompt prefilled once, sampling and log-probs in native code. Only the sampled tokens,
     * their log-probs and finish reasons come back. Independent of prefill / step.
     */
    rollout: (x: RolloutInput): Promise<RolloutOutput> =>
      this.calls.run(async () => {
        x.signal?.throwIfAborted();
        for (const id of x.eosIds ?? []) {
          if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
            throw new ValueError(`eosIds: id ${id} is outside the vocabulary [0, ${this.config.vocabSize})`, "ERR_RLVR_VALUE", "eosIds");
          }
        }
        const lens = x.prompts.map((p) => p.length);
        const offsets = new Int32Array(lens.length + 1);
        lens.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l));
        const ids = new Int32Array(offsets[lens.length]!);
        x.prompts.forEach((p, i) => ids.set(p, offsets[i]!));
        const temperature = x.temperature ?? 1;
        const cancel = () => this.native.cancelRollout();
        x.signal?.addEventListener("abort", cancel);
        try {
          const r = await this.native.rollout({
            ids, offsets, n: x.n ?? 1, temperature, topP: x.topP ?? 1, topK: x.topK ?? 0, maxNewTokens: x.maxNewTokens,
            eosIds: Int32Array.from(x.eosIds ?? []), ignoreEos: x.ignoreEos ?? false, seed: (x.seed ?? 0) >>> 0,
            ...(x.forcedLengths ? { forcedLengths: x.forcedLengths } : {}),
            logprobTemperature: x.logprobTemperature ?? (temperature > 0 ? temperature : 1), slots: x.slots ?? 64,
            maxPositions: this.config.maxPositionEmbeddings,
            ...(x.onProgress ? { onProgress: (rowsDone: number, tokens: number) => x.onProgress!({ rowsDone, tokens }) } : {}),
          });
          return { tokens: r.tokens, logprobs: r.logprobs, offsets: r.offsets, finish: Array.from(r.finish, (f) => FINISH[f]!) };
        } finally {
          x.signal?.removeEventListener("abort", cancel);
        }
      }),
    /** Frees the cache. */
    reset: (): void => {
      this.calls.assertIdle("decode.reset");
      callNative(() => this.native.resetCache());
    },
  };
}
