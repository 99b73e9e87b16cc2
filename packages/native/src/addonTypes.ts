/** The one typed description of the native addon's exports (native/src/binding). */

export type DType = "f32" | "f16" | "bf16" | "i32" | "u8";
export type Device = "cpu" | `cuda:${number}`;

export interface GpuBufferHandle {
  readonly bytes: number;
  readonly device: number;
  copyFromHost(src: ArrayBufferView): void;
  copyToHost(dst: ArrayBufferView): void;
  free(): void;
}

/** What the binding reads from a tensor argument. */
export interface TensorDescriptor {
  dtype: DType;
  shape: readonly number[];
  device: Device;
  data?: ArrayBufferView;
  buffer?: GpuBufferHandle;
}

export interface BuildInfo {
  cudaCompiled: boolean;
  cudaCompilerVersion: string;
  cudaArchs: string;
  cudaRuntimeVersion: string;
  cxxCompiler: string;
  buildType: string;
  napiVersion: number;
  cpuThreads: number;
  /**
   * glibc malloc settings applied when the addon loads (native/src/binding/malloc_tuning.cpp):
   * engine buffers up to mmapThreshold bytes come from the heap, which keeps up to
   * trimThreshold freed bytes, so repeated engine calls reuse warm pages. Not applied off glibc
   * or with RLVR_MALLOC_TUNING=0 (thresholds 0).
   */
  mallocTuning: { applied: boolean; mmapThreshold: number; trimThreshold: number };
}

/** Instruction-set paths of the CPU kernels (native/src/kernels/cpu/isa.h). */
export type CpuIsaName = "avx512" | "avx2" | "neon" | "generic";

export interface CpuIsaInfo {
  /** The path the CPU kernels run on. */
  active: CpuIsaName;
  /** Paths this CPU and build run, best first (the default is the first). */
  supported: CpuIsaName[];
  /** RLVR_CPU_ISA as set, or "auto". */
  requested: string;
  /** Why RLVR_CPU_ISA was not followed (unknown or unsupported value: the best path runs); "" otherwise. */
  warning: string;
}

export interface DeviceInfo {
  index: number;
  name: string;
  totalMemory: number;
  /** Bytes free on the device when devices() was called (other processes' use included). */
  freeMemory: number;
  computeCapability: string;
  multiprocessors: number;
}

export interface NativePolicyLossStats {
  total: number;
  pgLoss: number;
  klLoss: number;
  entropy: number;
  clipFrac: number;
  dualClipFrac: number;
  ppoKl: number;
  weightSum: number;
}

/** What the valueLoss binding returns (kernels.h (j) ValueLossStats). */
export interface NativeValueLossStats {
  /** Σ w·½·max((v − R)², (clip(v) − R)²) */
  loss: number;
  /** Σ w·[clipped term larger] / Σ w (0 when Σ w = 0) */
  clipFrac: number;
  weightSum: number;
}

type T = TensorDescriptor;

export interface Addon {
  buildInfo(): BuildInfo;
  devices(): DeviceInfo[];
  deviceMemory(device: number): { inUse: number; peak: number };
  resetDeviceMemoryPeak(device: number): void;
  bf16GemmImpl(): string;
  cpuFeatures(): Record<string, boolean>;
  cpuIsa(): CpuIsaInfo;
  setCpuIsa(name: string): CpuIsaName;
  exitNow(code: number): never;
  GpuBuffer: new (device: number, bytes: number) => GpuBufferHandle;
  logprobForward(o: { logits: T; targets: T; temperature: number; logp: T; entropy: T; lse: T }): void;
  logprobBackward(o: {
    logits: T; targets: T; temperature: number; lse: T; entropy: T;
    dlogp?: T | undefined; dentropy?: T | undefined; dlogits: T;
  }): void;
  grpoAdvantage(o: {
    scores: T; groupSize: number; normStd: boolean; eps: number; advantages: T;
    mask?: T | undefined; tokenAdvantages?: T | undefined;
  }): void;
  ppoClipLoss(o: {
    logp: T; oldLogp: T; advantages: T; clipLow: number; clipHigh: number; dualClip: number;
    loss: T; dlogp: T; clipped?: T | undefined; dualClipped?: T | undefined;
  }): void;
  klPenalty(o: { logp: T; refLogp: T; klType: string; kl: T; dlogp?: T | undefined }): void;
  aggregationWeights(o: { mask: T; mode: string; weights: T }): void;
  gae(o: {
    rewards: T; values: T; mask: T; gamma: number; lambda: number; whiten: boolean; advantages: T; returns: T;
  }): void;
  policyLoss(o: {
    logits: T; targets: T; temperature: number; oldLogp?: T | undefined; refLogp?: T | undefined;
    advantages?: T | undefined; weights: T; pgCoef: number; klCoef: number; entropyCoeff: number;
    clipLow: number; clipHigh: number; dualClip: number; klType: string; logp: T; entropy: T; dlogits?: T | undefined;
  }): NativePolicyLossStats;
  sampleTokens(o: { logits: T; temperature: number; topP: number; topK: number; uniforms: T; tokens: T }): void;
  valueLoss(o: {
    values: T; oldValues: T; returns: T; weights: T; clip: number; dvalues?: T | undefined;
  }): NativeValueLossStats;
}
