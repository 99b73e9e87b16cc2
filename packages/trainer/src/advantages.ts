// Advantages (spec section 3) through the native kernels: GRPO's outcome advantages and PPO's GAE.
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
