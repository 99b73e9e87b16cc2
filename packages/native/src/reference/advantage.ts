/** Plain TypeScript references for GRPO advantages and GAE (float64). */

/** A_i = (s_i − mean) / (unbiased std + eps) per contiguous group; size-1 groups use mean 0, std 1. */
export function grpoAdvantageRef(scores: ArrayLike<number>, groupSize: number, normStd = true, eps = 1e-6): Float64Array {
  const b = scores.length;
  const a = new Float64Array(b);
  for (let g = 0; g < b; g += groupSize) {
    const xs = Array.from({ length: groupSize }, (_, i) => scores[g + i] as number);
    let mean = 0, std = 1;
    if (groupSize > 1) {
      mean = xs.reduce((p, x) => p + x, 0) / groupSize;
      std = Math.sqrt(xs.reduce((p, x) => p + (x - mean) ** 2, 0) / (groupSize - 1));
    }
    xs.forEach((x, i) => (a[g + i] = normStd ? (x - mean) / (std + eps) : x - mean));
  }
  return a;
}

/** GAE over the mask (masked positions are skipped), optional whitening; see kernels.h (g). */
export function gaeRef(
  rewards: ArrayLike<number>, values: ArrayLike<number>, mask: ArrayLike<number>, b: number, t: number,
  gamma = 1, lambda = 1, whiten = true,
): { advantages: Float64Array; returns: Float64Array } {
  const adv = new Float64Array(b * t), ret = new Float64Array(b * t);
  for (let r = 0; r < b; r++) {
    let nextV = 0, nextA = 0;
    for (let j = t - 1; j >= 0; j--) {
      const k = r * t + j;
      if ((mask[k] as number) === 0) continue;
      const delta = (rewards[k] as number) + gamma * nextV - (values[k] as number);
      nextA = delta + gamma * lambda * nextA;
      nextV = values[k] as number;
      adv[k] = nextA;
      ret[k] = nextA + (values[k] as number);
    }
  }
  if (whiten) {
    let s = 0, c = 0;
    for (let k = 0; k < b * t; k++) {
      s += adv[k]! * (mask[k] as number);
      c += mask[k] as number;
    }
    const mean = c > 0 ? s / c : 0;
    let ss = 0;
    for (let k = 0; k < b * t; k++) ss += (adv[k]! - mean) ** 2 * (mask[k] as number);
    const v = c > 1 ? ss / (c - 1) : 0;
    const inv = 1 / Math.sqrt(v + 1e-8);
    for (let k = 0; k < b * t; k++) adv[k] = (adv[k]! - mean) * inv * (mask[k] as number);
  }
  return { advantages: adv, returns: ret };
}
