/** Reference for the fused policy objective, composed from the other references. */
import { tokenLogprobsBackwardRef, tokenLogprobsRef } from "./logprob.js";
import { type KlTypeRef, klTokenRef, ppoClipTokenRef } from "./losses.js";

export interface PolicyLossRefInput {
  logits: ArrayLike<number>;
  n: number;
  v: number;
  targets: ArrayLike<number>;
  weights: ArrayLike<number>;
  oldLogp?: ArrayLike<number>;
  refLogp?: ArrayLike<number>;
  advantages?: ArrayLike<number>;
  temperature?: number;
  pgCoef?: number;
  klCoef?: number;
  klType?: KlTypeRef;
  entropyCoeff?: number;
  clipLow?: number;
  clipHigh?: number;
  dualClip?: number;
}

export function policyLossRef(x: PolicyLossRefInput) {
  const temp = x.temperature ?? 1, pgC = x.pgCoef ?? 1, klC = x.klCoef ?? 0, entC = x.entropyCoeff ?? 0;
  const { logp, entropy } = tokenLogprobsRef(x.logits, x.n, x.v, x.targets, temp);
  const dlogp = new Float64Array(x.n), dent = new Float64Array(x.n);
  let total = 0, pgLoss = 0, klLoss = 0, ent = 0, clipFrac = 0, dualClipFrac = 0, ppoKl = 0, wsum = 0;
  for (let i = 0; i < x.n; i++) {
    const w = x.weights[i] as number;
    let term = 0, g = 0;
    if (pgC !== 0) {
      const pg = ppoClipTokenRef(logp[i]!, x.oldLogp![i] as number, x.advantages![i] as number, x.clipLow ?? 0.2, x.clipHigh ?? 0.2, x.dualClip ?? 0);
      pgLoss += w * pg.loss;
      clipFrac += w * Number(pg.clipped);
      dualClipFrac += w * Number(pg.dualClipped);
      ppoKl += w * ((x.oldLogp![i] as number) - logp[i]!);
      term += pgC * pg.loss;
      g += pgC * pg.dlogp;
    }
    if (klC !== 0) {
      const kl = klTokenRef(logp[i]!, x.refLogp![i] as number, x.klType ?? "low_var_kl");
      klLoss += w * kl.kl;
      term += klC * kl.kl;
      g += klC * kl.dlogp;
    }
    ent += w * entropy[i]!;
    term -= entC * entropy[i]!;
    total += w * term;
    wsum += w;
    dlogp[i] = w * g;
    dent[i] = -w * entC;
  }
  const dlogits = tokenLogprobsBackwardRef(x.logits, x.n, x.v, x.targets, temp, dlogp, dent);
  const norm = wsum > 0 ? wsum : 1;
  return {
    stats: { total, pgLoss, klLoss, entropy: ent, clipFrac: clipFrac / norm, dualClipFrac: dualClipFrac / norm, ppoKl: ppoKl / norm, weightSum: wsum },
    logp, entropy, dlogits,
  };
}
