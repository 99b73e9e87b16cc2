/**
 * The fused RL kernels, typed. Each function allocates its outputs on the
 * device of its main input and runs the CPU or CUDA implementation; the
 * binding validates every argument and errors arrive as typed classes
 * (ShapeError, DTypeError, IndexRangeError, ValueError, DeviceError).
 */
import type { NativePolicyLossStats, NativeValueLossStats } from "./addonTypes.js";
import { ShapeError, callNative } from "./errors.js";
import { loadAddon } from "./load.js";
import { Tensor } from "./tensor.js";

export type KlType = "kl" | "abs" | "mse" | "low_var_kl";
export type AggMode = "token-mean" | "seq-mean-token-sum" | "seq-mean-token-mean";

function out(like: Tensor, shape: readonly number[], dtype: Tensor["dtype"] = "f32"): Tensor {
  return Tensor.zeros(shape, dtype, like.device);
}

function rows(logits: Tensor): number {
  return logits.shape[0] ?? 0;
}

export interface TokenLogprobs {
  /** log softmax(logits / τ)[target], [n] */
  logp: Tensor;
  /** entropy of softmax(logits / τ), [n] */
  entropy: Tensor;
  /** logsumexp(logits / τ), [n], saved for the backward */
  lse: Tensor;
}

/** (a) Fused token log-prob + entropy of logits [n, v] at targets [n] (one streaming pass). */
export function tokenLogprobs(logits: Tensor, targets: Tensor, opts: { temperature?: number } = {}): TokenLogprobs {
  const n = rows(logits);
  const r = { logp: out(logits, [n]), entropy: out(logits, [n]), lse: out(logits, [n]) };
  callNative(() => loadAddon().logprobForward({ logits, targets, temperature: opts.temperature ?? 1, ...r }));
  return r;
}

/**
 * (b) Backward of tokenLogprobs: dlogits from upstream dlogp / dentropy [n]
 * (either may be omitted), recomputing p from the saved lse. With inPlace the
 * gradient overwrites `logits` and that tensor is returned.
 */
export function tokenLogprobsBackward(
  logits: Tensor,
  targets: Tensor,
  saved: { lse: Tensor; entropy: Tensor },
  grads: { dlogp?: Tensor; dentropy?: Tensor },
  opts: { temperature?: number; inPlace?: boolean } = {},
): Tensor {
  const dlogits = opts.inPlace ? logits : out(logits, logits.shape, logits.dtype);
  callNative(() =>
    loadAddon().logprobBackward({
      logits, targets, temperature: opts.temperature ?? 1, lse: saved.lse, entropy: saved.entropy,
      dlogp: grads.dlogp, dentropy: grads.dentropy, dlogits,
    }),
  );
  return dlogits;
}

export interface GrpoOptions {
  /** responses per prompt; rows [g*n, (g+1)*n) form group g */
  groupSize: number;
  /** divide by (unbiased std + eps); false gives the Dr. GRPO variant */
  normStd?: boolean;
  eps?: number;
  /** response mask [b, t]: also return advantages broadcast over tokens */
  mask?: Tensor;
}

/** (c) GRPO outcome advantages from per-response scores [b]. */
export function grpoAdvantage(scores: Tensor, opts: GrpoOptions): { advantages: Tensor; tokenAdvantages?: Tensor } {
  const b = scores.shape[0] ?? 0;
  const advantages = out(scores, [b]);
  const tokenAdvantages = opts.mask ? out(scores, opts.mask.shape) : undefined;
  callNative(() =>
    loadAddon().grpoAdvantage({
      scores, groupSize: opts.groupSize, normStd: opts.normStd ?? true, eps: opts.eps ?? 1e-6, advantages,
      mask: opts.mask, tokenAdvantages,
    }),
  );
  return tokenAdvantages ? { advantages, tokenAdvantages } : { advantages };
}

export interface ClipOptions {
  clipLow?: number;
  clipHigh?: number;
  /** dual-clip constant c > 1 (0 = off) */
  dualClip?: number;
}

export interface PpoClipResult {
  /** per-token loss max(-A·r, -A·clip(r)), [n] */
  loss: Tensor;
  /** d loss / d logp, [n] */
  dlogp: Tensor;
  /** 1 where the clipped term is the larger, [n] u8 */
  clipped: Tensor;
  /** 1 where the dual clip caps the loss, [n] u8 */
  dualClipped: Tensor;
}

/** (d) Clipped policy-gradient loss per token. */
export function ppoClipLoss(logp: Tensor, oldLogp: Tensor, advantages: Tensor, opts: ClipOptions = {}): PpoClipResult {
  const n = logp.shape[0] ?? 0;
  const r = { loss: out(logp, [n]), dlogp: out(logp, [n]), clipped: out(logp, [n], "u8"), dualClipped: out(logp, [n], "u8") };
  callNative(() =>
    loadAddon().ppoClipLoss({
      logp, oldLogp, advantages, clipLow: opts.clipLow ?? 0.2, clipHigh: opts.clipHigh ?? 0.2,
      dualClip: opts.dualClip ?? 0, ...r,
    }),
  );
  return r;
}

/** (e) KL penalty per token against reference log-probs, with d/d logp. */
export function klPenalty(logp: Tensor, refLogp: Tensor, type: KlType = "low_var_kl"): { kl: Tensor; dlogp: Tensor } {
  const n = logp.shape[0] ?? 0;
  const r = { kl: out(logp, [n]), dlogp: out(logp, [n]) };
  callNative(() => loadAddon().klPenalty({ logp, refLogp, klType: type, ...r }));
  return r;
}

/** (f) Per-token aggregation weights from a response mask [b, t]: every aggregate is sum(w · x). */
export function aggregationWeights(mask: Tensor, mode: AggMode = "token-mean"): Tensor {
  const weights = out(mask, mask.shape);
  callNative(() => loadAddon().aggregationWeights({ mask, mode, weights }));
  return weights;
}

/** sum(w · x) in float64 (host side). */
export function aggregate(values: Tensor, weights: Tensor): number {
  const x = values.toArray(), w = weights.toArray();
  if (x.length !== w.length) throw new ShapeError(`weights: values (${x.length}) and weights (${w.length}) differ in length`, "ERR_RLVR_SHAPE", "weights");
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (w[i] as number);
  return s;
}

export interface GaeOptions {
  gamma?: number;
  lambda?: number;
  /** whiten advantages over the mask (masked mean, unbiased variance) */
  whiten?: boolean;
}

/** (g) GAE advantages and returns from token rewards and values [b, t] over the response mask. */
export function gae(rewards: Tensor, values: Tensor, mask: Tensor, opts: GaeOptions = {}): { advantages: Tensor; returns: Tensor } {
  const r = { advantages: out(rewards, rewards.shape), returns: out(rewards, rewards.shape) };
  callNative(() =>
    loadAddon().gae({ rewards, values, mask, gamma: opts.gamma ?? 1, lambda: opts.lambda ?? 1, whiten: opts.whiten ?? true, ...r }),
  );
  return r;
}

export interface PolicyLossInputs {
  /** aggregation weights [n] (mask folded in), e.g. aggregationWeights(mask).reshape([n]) */
  weights: Tensor;
  oldLogp?: Tensor;
  refLogp?: Tensor;
  advantages?: Tensor;
}

export interface PolicyLossOptions extends ClipOptions {
  temperature?: number;
  /** weight of the policy-gradient term (0 drops it, e.g. entropy-only training) */
  pgCoef?: number;
  klCoef?: number;
  klType?: KlType;
  /** the objective subtracts entropyCoeff · entropy: positive rewards higher entropy */
  entropyCoeff?: number;
  /** compute dlogits (default true) */
  backward?: boolean;
  /** write dlogits over the logits buffer */
  inPlace?: boolean;
}

export type PolicyLossStats = NativePolicyLossStats;

/**
 * (h) The combined objective sum_i w_i (pgCoef·pg_i + klCoef·kl_i − entropyCoeff·H_i)
 * and its gradient to the logits, in one fused pass per row.
 */
export function policyLoss(
  logits: Tensor,
  targets: Tensor,
  inputs: PolicyLossInputs,
  opts: PolicyLossOptions = {},
): { stats: PolicyLossStats; logp: Tensor; entropy: Tensor; dlogits?: Tensor } {
  const n = rows(logits);
  const logp = out(logits, [n]), entropy = out(logits, [n]);
  const dlogits = opts.backward === false ? undefined : opts.inPlace ? logits : out(logits, logits.shape, logits.dtype);
  const stats = callNative(() =>
    loadAddon().policyLoss({
      logits, targets, temperature: opts.temperature ?? 1, oldLogp: inputs.oldLogp, refLogp: inputs.refLogp,
      advantages: inputs.advantages, weights: inputs.weights, pgCoef: opts.pgCoef ?? 1, klCoef: opts.klCoef ?? 0,
      entropyCoeff: opts.entropyCoeff ?? 0, clipLow: opts.clipLow ?? 0.2, clipHigh: opts.clipHigh ?? 0.2,
      dualClip: opts.dualClip ?? 0, klType: opts.klType ?? "low_var_kl", logp, entropy, dlogits,
    }),
  );
  return dlogits ? { stats, logp, entropy, dlogits } : { stats, logp, entropy };
}

export interface SampleOptions {
  /** 0 = greedy */
  temperature?: number;
  /** nucleus mass in (0, 1]; 1 = off */
  topP?: number;
  /** keep the k most likely tokens; 0 = off */
  topK?: number;
}

/**
 * (i) Samples one token per row of next-token logits [b, v], given one
 * uniform in [0, 1) per row (the caller owns the RNG, so runs are seeded and
 * resumable). Deterministic: the same logits and uniforms give the same tokens.
 */
export function sampleTokens(logits: Tensor, uniforms: Tensor, opts: SampleOptions = {}): Tensor {
  const tokens = out(logits, [rows(logits)], "i32");
  callNative(() =>
    loadAddon().sampleTokens({ logits, uniforms, tokens, temperature: opts.temperature ?? 1, topP: opts.topP ?? 1, topK: opts.topK ?? 0 }),
  );
  return tokens;
}

export interface ValueLossOptions {
  /** value clip range c > 0 around the old values (verl's cliprange_value); default 0.5 */
  clip?: number;
  /** compute dvalues (default true) */
  backward?: boolean;
}

export type ValueLossStats = NativeValueLossStats;

export interface ValueLossResult extends ValueLossStats {
  /** d loss / d values = w·(v − R) where the unclipped term is the larger (ties included), else 0; same shape as values */
  dvalues?: Tensor;
}

/**
 * (j) PPO critic loss (verl's compute_value_loss) with aggregation weights w
 * (mask folded in, e.g. aggregationWeights(mask)):
 * loss = Σ w·½·max((v − R)², (clip(v, v_old − c, v_old + c) − R)²), its
 * gradient to the values, and the weighted share of tokens where the clipped
 * term is the larger. values, oldValues, returns and weights share one shape
 * (e.g. [b, t]); all must be finite f32 on one device. Tokens with weight 0
 * contribute nothing and get gradient 0.
 */
export function valueLoss(
  values: Tensor,
  oldValues: Tensor,
  returns: Tensor,
  weights: Tensor,
  opts: ValueLossOptions = {},
): ValueLossResult {
  const dvalues = opts.backward === false ? undefined : out(values, values.shape);
  const stats = callNative(() =>
    loadAddon().valueLoss({ values, oldValues, returns, weights, clip: opts.clip ?? 0.5, dvalues }),
  );
  return dvalues ? { ...stats, dvalues } : stats;
}
