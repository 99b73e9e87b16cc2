// Loss aggregation weights of a mini-batch: the native modes, plus Dr. GRPO's
// "seq-mean-token-sum-norm". Dr. GRPO removes the per-response length normalization: each
// response's token sum is divided by one constant, the generation budget (data.maxResponseLength),
// then averaged over the responses: w = mask / (rows · horizon). That is seq-mean-token-sum's
// weights scaled by 1/horizon, so it is computed from them (same kernel, same rounding).
import { Tensor, aggregationWeights, type AggMode } from "@rlvr/native";

export type LossAggMode = AggMode | "seq-mean-token-sum-norm";

/** [rows, width] weights for the mode; `horizon` is the constant divisor of seq-mean-token-sum-norm. */
export function lossWeights(mask: Float32Array, rows: number, width: number, mode: LossAggMode, horizon: number): Float32Array {
  const native: AggMode = mode === "seq-mean-token-sum-norm" ? "seq-mean-token-sum" : mode;
  const weights = aggregationWeights(Tensor.from(Float32Array.from(mask), [rows, width]), native).toArray() as Float32Array;
  if (mode !== "seq-mean-token-sum-norm") return weights;
  if (!(horizon > 0)) throw new Error(`internal: seq-mean-token-sum-norm needs a positive horizon, got ${horizon}`);
  const scale = 1 / horizon;
  for (let i = 0; i < weights.length; i++) weights[i]! *= scale;
  return weights;
}
