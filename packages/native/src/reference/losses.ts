/** Plain TypeScript references for the per-token loss kernels, incl. the critic's value loss (float64). */
export type KlTypeRef = "kl" | "abs" | "mse" | "low_var_kl";
export type AggModeRef = "token-mean" | "seq-mean-token-sum" | "seq-mean-token-mean";

export interface PgTokenRef {
  loss: number;
  dlogp: number;
  clipped: boolean;
  dualClipped: boolean;
}

/** PPO clip for one token (with optional dual clip c > 1 for A < 0). */
export function ppoClipTokenRef(logp: number, oldLogp: number, adv: number, clipLow = 0.2, clipHigh = 0.2, dualClip = 0): PgTokenRef {
  const ratio = Math.exp(logp - oldLogp);
  const l1 = -adv * ratio;
  const l2 = -adv * Math.min(Math.max(ratio, 1 - clipLow), 1 + clipHigh);
  const clipped = l2 > l1;
  let loss = Math.max(l1, l2);
  let dlogp = clipped ? 0 : -adv * ratio;
  let dualClipped = false;
  if (dualClip > 0 && adv < 0 && loss > -adv * dualClip) {
    loss = -adv * dualClip;
    dlogp = 0;
    dualClipped = true;
  }
  return { loss, dlogp, clipped, dualClipped };
}

/** KL penalty for one token, delta = logp − ref. */
export function klTokenRef(logp: number, refLogp: number, type: KlTypeRef): { kl: number; dlogp: number } {
  const d = logp - refLogp;
  switch (type) {
    case "kl":
      return { kl: d, dlogp: 1 };
    case "abs":
      return { kl: Math.abs(d), dlogp: Math.sign(d) };
    case "mse":
      return { kl: 0.5 * d * d, dlogp: d };
    case "low_var_kl": {
      const r = Math.exp(-d);
      const kl = r + d - 1;
      if (kl > 10) return { kl: 10, dlogp: 0 };
      if (kl < -10) return { kl: -10, dlogp: 0 };
      return { kl, dlogp: 1 - r };
    }
  }
}

/** Aggregation weights for a mask [b, t] such that every aggregate is sum(w·x). */
export function aggregationWeightsRef(mask: ArrayLike<number>, b: number, t: number, mode: AggModeRef): Float64Array {
  const w = new Float64Array(b * t);
  if (mode === "token-mean") {
    let s = 0;
    for (let i = 0; i < b * t; i++) s += mask[i] as number;
    for (let i = 0; i < b * t; i++) w[i] = s > 0 ? (mask[i] as number) / s : 0;
    return w;
  }
  for (let r = 0; r < b; r++) {
    let len = 0;
    for (let j = 0; j < t; j++) len += mask[r * t + j] as number;
    for (let j = 0; j < t; j++) {
      const m = mask[r * t + j] as number;
      w[r * t + j] = mode === "seq-mean-token-sum" ? m / b : len > 0 ? m / (len * b) : 0;
    }
  }
  return w;
}

export interface ValueTokenRef {
  /** ½·max(a, c), a = (v − R)², c = (clip(v, old − c, old + c) − R)² */
  loss: number;
  /** d loss / d v: v − R where a >= c (a tie is unclipped), else 0 */
  dvalue: number;
  /** c > a */
  clipped: boolean;
}

/** PPO clipped value loss for one token (verl's compute_value_loss, kernels.h (j)). */
export function valueTokenRef(v: number, oldV: number, ret: number, clip: number): ValueTokenRef {
  const vc = Math.min(Math.max(v, oldV - clip), oldV + clip);
  const a = (v - ret) ** 2, c = (vc - ret) ** 2;
  const clipped = c > a;
  return { loss: 0.5 * Math.max(a, c), dvalue: clipped ? 0 : v - ret, clipped };
}

/**
 * Value loss over n tokens with aggregation weights w: loss = Σ w·term,
 * dvalues = w·dterm/dv, clipFrac = Σ w·[clipped] / Σ w (0 when Σ w is not positive).
 */
export function valueLossRef(
  values: ArrayLike<number>, oldValues: ArrayLike<number>, returns: ArrayLike<number>, weights: ArrayLike<number>, clip: number,
): { loss: number; clipFrac: number; weightSum: number; dvalues: Float64Array; clipped: boolean[] } {
  const n = values.length;
  const dvalues = new Float64Array(n), clipped: boolean[] = [];
  let loss = 0, clipW = 0, weightSum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    const t = valueTokenRef(values[i] as number, oldValues[i] as number, returns[i] as number, clip);
    clipped.push(t.clipped);
    if (w === 0) continue;
    loss += w * t.loss;
    clipW += t.clipped ? w : 0;
    weightSum += w;
    dvalues[i] = w * t.dvalue;
  }
  return { loss, clipFrac: weightSum > 0 ? clipW / weightSum : 0, weightSum, dvalues, clipped };
}
