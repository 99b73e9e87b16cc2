/**
 * Plain TypeScript references for the fused log-prob / entropy kernels, in
 * float64 with the textbook two-pass formulas (max, then sums): the ground
 * truth the native kernels are tested against.
 */
export interface LogprobRef {
  logp: Float64Array;
  entropy: Float64Array;
  lse: Float64Array;
}

/** logits [n, v] row-major (any numeric array), targets [n], temperature τ. */
export function tokenLogprobsRef(logits: ArrayLike<number>, n: number, v: number, targets: ArrayLike<number>, temperature = 1): LogprobRef {
  const logp = new Float64Array(n), entropy = new Float64Array(n), lse = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * v;
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, (logits[off + j] as number) / temperature);
    let s = 0, sz = 0;
    for (let j = 0; j < v; j++) {
      const z = (logits[off + j] as number) / temperature;
      if (z === -Infinity) continue;
      const e = Math.exp(z - m);
      s += e;
      sz += e * (z - m);
    }
    lse[i] = m + Math.log(s);
    entropy[i] = Math.log(s) - sz / s;
    logp[i] = (logits[off + (targets[i] as number)] as number) / temperature - lse[i]!;
  }
  return { logp, entropy, lse };
}

/**
 * dlogits [n, v] = (dlogp·(onehot − p) − dentropy·p·(log p + H)) / τ,
 * the gradient of sum_i dlogp_i·logp_i + dentropy_i·H_i with respect to the logits.
 */
export function tokenLogprobsBackwardRef(
  logits: ArrayLike<number>, n: number, v: number, targets: ArrayLike<number>, temperature: number,
  dlogp: ArrayLike<number> | null, dentropy: ArrayLike<number> | null,
): Float64Array {
  const { lse, entropy } = tokenLogprobsRef(logits, n, v, targets, temperature);
  const g = new Float64Array(n * v);
  for (let i = 0; i < n; i++) {
    const gl = dlogp ? (dlogp[i] as number) : 0, gh = dentropy ? (dentropy[i] as number) : 0;
    for (let j = 0; j < v; j++) {
      const z = (logits[i * v + j] as number) / temperature;
      const logP = z - lse[i]!;
      const p = z === -Infinity ? 0 : Math.exp(logP);
      const onehot = j === targets[i] ? 1 : 0;
      const ent = p === 0 ? 0 : p * (logP + entropy[i]!);
      g[i * v + j] = (gl * (onehot - p) - gh * ent) / temperature;
    }
  }
  return g;
}
