/**
 * Type declarations of the addon's Engine class (native/src/binding/engine_binding.cpp). The long
 * calls return promises: they throw synchronously on bad arguments and reject on engine failures;
 * while one is in flight every other method but paramInfo, numParameters and backend throws.
 */
import type { PolicyLossStats, TensorDescriptor } from "@rlvr/native";

type T = TensorDescriptor;

export interface NativeEngineConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  attentionBias: boolean;
  /** Qwen3: per-head RMSNorm of q and k (self_attn.q_norm / k_norm) before RoPE (default false). */
  qkNorm?: boolean;
  tieWordEmbeddings: boolean;
  invFreq: Float32Array | Float64Array;
  /** A critic: score.weight / score.bias instead of the LM head (every backend). */
  valueHead?: boolean;
  /** OpsModel on "cpu" (the fast CPU ops, default), "ops-cpu" (the reference ops) or "cuda" (a device). */
  backend?: string;
  /** CUDA device ordinal (backend "cuda" only; default 0). */
  device?: number;
  /** "ops-cpu" and "cuda": bf16 GEMM operands with fp32 accumulation (default false). */
  bf16Gemm?: boolean;
}

export interface NativeBatch {
  inputIds: T;
  attentionMask: T;
  segmentIds?: T;
}

export interface NativeForwardBackwardResult extends PolicyLossStats {
  tokenLogp: Float32Array;
  tokenEntropy: Float32Array;
}

export interface NativeEngine {
  paramInfo(): { name: string; shape: number[] }[];
  setParam(name: string, data: Float32Array): void;
  getParam(name: string): Float32Array;
  getGrad(name: string): Float32Array;
  getAdamState(name: string): { step: number; m: Float32Array; v: Float32Array };
  setAdamState(name: string, step: number, m: Float32Array, v: Float32Array): void;
  zeroGrad(): void;
  gradNorm(): number;
  numParameters(): number;
  score(o: NativeBatch & { targets: T; scoreMask?: T | undefined; temperature: number }): Promise<{
    logp: Float32Array;
    entropy: Float32Array;
  }>;
  logits(o: NativeBatch): Promise<Float32Array>;
  scorePrefixed(o: NativeBatch & {
    prefixIds: T; prefixMask: T; group: T; targets: T; scoreMask?: T | undefined; temperature: number;
  }): Promise<{ logp: Float32Array; entropy: Float32Array }>;
  forwardBackward(
    o: NativeBatch & {
      targets: T; weights: T; oldLogp?: T | undefined; refLogp?: T | undefined; advantages?: T | undefined;
      temperature: number; pgCoef: number; klCoef: number; entropyCoeff: number;
      clipLow: number; clipHigh: number; dualClip: number; klType: string;
    },
  ): Promise<NativeForwardBackwardResult>;
  values(o: NativeBatch & { scoreMask?: T | undefined }): Promise<Float32Array>;
  valueForwardBackward(o: NativeBatch & { weights: T; oldValues: T; returns: T; clip: number }): Promise<{
    loss: number; clipFrac: number; weightSum: number; values: Float32Array;
  }>;
  optimizerStep(o: {
    lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm: number;
  }): Promise<{ gradNorm: number; skipped: boolean; step: number }>;
  prefill(o: NativeBatch & { capacity: number }): Promise<Float32Array>;
  step(o: { tokens: T }): Promise<Float32Array>;
  resetCache(): void;
  releaseWorkspace(): void;
  setLmChunkRows(rows: number): void;
  keptActivations(): boolean;
  backend(): string;
  rollout(o: {
    ids: Int32Array; offsets: Int32Array; n: number; temperature: number; topP: number; topK: number;
    maxNewTokens: number; eosIds: Int32Array; ignoreEos: boolean; forcedLengths?: Int32Array; seed: number; logprobTemperature: number;
    slots: number; maxPositions: number; onProgress?: (rowsDone: number, tokens: number) => void;
  }): Promise<{ tokens: Int32Array; logprobs: Float32Array; offsets: Float64Array; finish: Uint8Array }>;
  cancelRollout(): void;
  supportsRollout(): boolean;
}

export interface EngineAddon {
  Engine: new (config: NativeEngineConfig) => NativeEngine;
  counterUniforms(o: { seed: number; streams: Float64Array; steps: Float64Array }): Float32Array;
}
