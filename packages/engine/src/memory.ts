// Host memory an engine needs, checked before anything is allocated. An engine too large for
// the machine used to start anyway: 3e9 parameters on a 23 GB machine allocated and zeroed
// 24 GB of parameters and gradients, and the machine swapped for as long as one waited.
import { freemem, totalmem } from "node:os";

import type { ModelConfig } from "@rlvr/model";
import { RlvrError } from "@rlvr/native";

export interface HostMemory {
  /** Bytes that can be allocated now without swapping (os.freemem: MemAvailable on Linux). */
  available: number;
  /** Bytes of the machine, or of the cgroup limit when one is set. */
  total: number;
}

/** The engine (or the weights it is built from) would not fit in host memory. */
export class EngineMemoryError extends RlvrError {
  constructor(
    message: string,
    readonly neededBytes: number,
    readonly availableBytes: number,
  ) {
    super(message, "ERR_RLVR_MEMORY", "memory");
  }
}

export function hostMemory(): HostMemory {
  const total = totalmem();
  const limit = process.constrainedMemory?.() ?? 0;
  // constrainedMemory is 2^64 (or 0) when no cgroup limit is set
  return { available: freemem(), total: limit > 0 && limit < total ? limit : total };
}

/** Parameters of the engine for `config`, without allocating anything. */
export function parameterCount(config: ModelConfig, valueHead = false): number {
  const { hiddenSize: h, vocabSize: v, intermediateSize: m, headDim: d } = config;
  const q = config.numHeads * d;
  const kv = config.numKvHeads * d;
  const bias = config.attentionBias ? q + 2 * kv : 0;
  const qkNorm = config.qkNorm ? 2 * d : 0;
  const layer = 2 * h + q * h + 2 * kv * h + bias + qkNorm + h * q + 3 * m * h;
  const head = valueHead ? h + 1 : config.tieWordEmbeddings ? 0 : v * h;
  return v * h + config.numLayers * layer + h + head;
}

export interface EngineMemoryOptions {
  backend?: "cpu" | "ops-cpu" | "cuda";
  valueHead?: boolean;
  bf16Gemm?: boolean;
  /** Also count the f32 weights read into JavaScript first (Engine.fromModelDir). */
  includeLoadedWeights?: boolean;
}

/**
 * Host bytes an engine allocates when it is created: f32 parameters and gradients (the CPU
 * engine and OpsModel on "ops-cpu" both allocate them up front; a bf16 copy of the weights
 * with bf16Gemm). "cuda" keeps them on the device. Training adds AdamW moments (8 bytes a
 * parameter) and activations on the first step: this is the least an engine needs.
 */
export function engineHostBytes(config: ModelConfig, opts: EngineMemoryOptions = {}): number {
  const params = parameterCount(config, opts.valueHead === true);
  const perParam = opts.backend === "cuda" ? 0 : 8 + (opts.bf16Gemm === true ? 2 : 0);
  return params * (perParam + (opts.includeLoadedWeights === true ? 4 : 0));
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e8 ? 3 : 1)} GB`;

/**
 * Throws EngineMemoryError when an engine for `config` needs more host memory than is
 * available. `where` names the model (its directory) in the message. RLVR_MEMORY_CHECK=0 skips it.
 */
export function checkEngineMemory(config: ModelConfig, opts: EngineMemoryOptions, where: string, memory: HostMemory = hostMemory()): void {
  if (process.env.RLVR_MEMORY_CHECK === "0") return;
  const needed = engineHostBytes(config, opts);
  const limit = Math.min(memory.available, memory.total);
  if (needed <= limit) return;
  const params = parameterCount(config, opts.valueHead === true);
  throw new EngineMemoryError(
    `${where}: an engine of ${params.toExponential(2)} parameters needs at least ${gb(needed)} of host memory ` +
      `(${opts.includeLoadedWeights === true ? "the f32 weights read from disk, then " : ""}f32 parameters and gradients` +
      `${opts.bf16Gemm === true ? " and a bf16 copy" : ""}, before any training state), but ${gb(memory.available)} ` +
      `of this machine's ${gb(memory.total)} is available: use a smaller model or a machine with more memory ` +
      `(RLVR_MEMORY_CHECK=0 skips this check)`,
    needed,
    memory.available,
  );
}
