// Advantages (spec section 3) through the native kernels, and the PPO critic's math.
import { Tensor, ValueError, gae } from "@rlvr/native";
import { grpoAdvantage } from "@rlvr/native";

/**
 * GRPO outcome advantages. `groups[i]` is the group id of response i: the prompt row it was
 * sampled for, assigned BEFORE the row is repeated n times (spec section 2), so pi_1 repeated
 * 128 times is 128 groups of n, not one group. Groups must be contiguous blocks of equal size
 * (the sampler's prompt-major order gives that).
 */
export function grpoAdvantages(
  scores: ArrayLike<number>,
  groups: ArrayLike<number>,
  opts: { normStd: boolean; eps: number },
): Float32Array {
  const b = scores.length;
  if (groups.length !== b) throw new ValueError(`groups: ${groups.length} ids for ${b} scores`, "ERR_RLVR_VALUE", "groups");
  if (b === 0) return new Float32Array(0);
  let size = 1;
  while (size < b && groups[size] === groups[0]) size++;
  const seen = new Set<number>();
  for (let i = 0; i < b; i++) {
    const g = Math.floor(i / size);
    const same = groups[i] === groups[g * size];
    const fresh = i % size !== 0 || !seen.has(groups[i] as number);
    seen.add(groups[i] as number);
    if (!same || !fresh || b % size !== 0) {
      throw new ValueError("groups: GRPO groups must be contiguous blocks of equal size", "ERR_RLVR_VALUE", "groups");
    }
  }
  const { advantages } = grpoAdvantage(Tensor.from(Float32Array.from(scores)), { groupSize: size, normStd: opts.normStd, eps: opts.eps });
  return advantages.toArray() as Float32Array;
}

/**
 * PPO (GAE) advantages and returns over the response layout [B, W]: the scalar score sits on
 * each response's last token (zero elsewhere), then the kernel runs the backward recursion and
 * whitens the advantages over the mask.
 */
export function gaeAdvantages(
  scores: ArrayLike<number>,
  values: Float32Array,
  mask: Float32Array,
  width: number,
  opts: { gamma: number; lambda: number },
): { advantages: Float32Array; returns: Float32Array } {
  const b = scores.length;
  const rewards = new Float32Array(b * width);
  for (let i = 0; i < b; i++) {
    let last = -1;
    for (let j = 0; j < width; j++) if (mask[i * width + j]! > 0) last = j;
    if (last >= 0) rewards[i * width + last] = scores[i] as number;
  }
  const shape = [b, width];
  const r = gae(Tensor.from(rewards, shape), Tensor.from(values, shape), Tensor.from(mask, shape), { gamma: opts.gamma, lambda: opts.lambda, whiten: true });
  return { advantages: r.advantages.toArray() as Float32Array, returns: r.returns.toArray() as Float32Array };
}

/**
 * The clipped value loss: ½·masked_mean(max((v − R)², (clip(v, v_old − c, v_old + c) − R)²)),
 * with its gradient to v and the share of tokens where the clipped term was the larger.
 */
export function valueLoss(
  values: Float32Array,
  oldValues: Float32Array,
  returns: Float32Array,
  mask: Float32Array,
  clip: number,
): { loss: number; dvalues: Float32Array; clipFrac: number } {
  let count = 0;
  for (let k = 0; k < mask.length; k++) count += mask[k]!;
  const n = count > 0 ? count : 1;
  const dvalues = new Float32Array(values.length);
  let loss = 0, clipped = 0;
  for (let k = 0; k < values.length; k++) {
    const m = mask[k]!;
    if (m === 0) continue;
    const v = values[k]!, vo = oldValues[k]!, ret = returns[k]!;
    const vc = Math.min(Math.max(v, vo - clip), vo + clip);
    const a = (v - ret) ** 2, c = (vc - ret) ** 2;
    loss += m * Math.max(a, c);
    if (c > a) {
      clipped += m;
      // d/dv of (clip(v) − R)²: zero when the clip is active on v
      dvalues[k] = v > vo - clip && v < vo + clip ? (m * (vc - ret)) / n : 0;
    } else {
      dvalues[k] = (m * (v - ret)) / n;
    }
  }
  return { loss: (0.5 * loss) / n, dvalues, clipFrac: clipped / n };
}

/**
 * What PPO with a critic needs from a value model: per-token values over the response layout,
 * and an update from the value-loss gradient. The engine has no value head (it exposes no
 * hidden states), so no implementation exists yet; `algorithm.advEstimator: gae` fails early.
 */
export interface Critic {
  values(batch: { promptIds: Int32Array; responseIds: Int32Array }[], width: number): Float32Array;
  update(dvalues: Float32Array, lr: number): { gradNorm: number };
}

export const CRITIC_UNAVAILABLE =
  'algorithm.advEstimator "gae" (PPO with a critic) is not available yet: needs engine value head ' +
  "(the engine exposes no hidden states to put a value head on). Use \"grpo\".";
