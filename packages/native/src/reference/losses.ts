/** Plain TypeScript references for the per-token loss kernels (float64). */
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
