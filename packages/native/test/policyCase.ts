/**
 * Shared policyLoss test machinery (used by policyLoss.test.ts and cuda.gpu.test.ts): case
 * generation away from every kink, the per-token error budgets, and the check against
 * policyLossRef. See policyLoss.test.ts for the tolerance rationale.
 */
import { expect } from "vitest";

import { type Device, type PolicyLossOptions, Tensor, policyLoss } from "../src/index.js";
import { klTokenRef, policyLossRef, ppoClipTokenRef, tokenLogprobsBackwardRef, tokenLogprobsRef } from "../src/reference/index.js";
import { type HalfOrF32, U, checkBackward, f32, floatValues, i32, logitsTensor, randomLogits, rng, rowBudget } from "./helpers.js";

export interface Case {
  n: number;
  v: number;
  x: Float64Array;
  logits: Tensor;
  targets: Int32Array;
  weights: Float32Array;
  oldLogp: Float32Array;
  refLogp: Float32Array;
  advantages: Float32Array;
  opts: Required<Pick<PolicyLossOptions, "temperature" | "pgCoef" | "klCoef" | "klType" | "entropyCoeff" | "clipLow" | "clipHigh" | "dualClip">>;
}

const k3 = (d: number) => Math.exp(-d) + d - 1;

/** Builds a case whose tokens sit away from every kink (see the file header). */
export function makeCase(seed: number, n: number, v: number, scale: number, dtype: HalfOrF32, opts: Case["opts"]): Case {
  const r = rng(seed ^ 0x51ed);
  const { values, targets } = randomLogits(seed, n, v, scale, 0.1);
  // -inf elsewhere in the row, but a finite target: old/ref log-probs must be finite
  for (let i = 0; i < n; i++) if (values[i * v + targets[i]!] === -Infinity) values[i * v + targets[i]!] = -scale / 2;
  const { t, x } = logitsTensor(values, n, v, dtype);
  const { logp } = tokenLogprobsRef(x, n, v, targets, opts.temperature);
  const kinks = [Math.log(1 - opts.clipLow), Math.log(1 + opts.clipHigh), opts.dualClip > 0 ? Math.log(opts.dualClip) : NaN];
  const oldLogp = new Float32Array(n), refLogp = new Float32Array(n), advantages = new Float32Array(n), weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let d = 1.4 * (2 * r() - 1); // log-ratio logp − old
    while (kinks.some((k) => Math.abs(d - k) < 0.02)) d += 0.05;
    oldLogp[i] = Math.fround(logp[i]! - d);
    let e = 4 * (2 * r() - 1); // logp − ref
    while (Math.abs(k3(e) - 10) < 0.05 || Math.abs(e) < 1e-3) e += 0.1;
    refLogp[i] = Math.fround(logp[i]! - e);
    advantages[i] = r() < 0.1 ? 0 : 4 * r() - 2;
    weights[i] = r() < 0.2 ? 0 : Math.fround(r() / Math.max(n, 1));
  }
  return { n, v, x, logits: t, targets, weights, oldLogp, refLogp, advantages, opts };
}

/** Runs policyLoss on the case, with every tensor moved to `device`. */
export function run(c: Case, extra: PolicyLossOptions = {}, logits: Tensor = c.logits, device: Device = "cpu") {
  const on = (t: Tensor) => t.to(device);
  return policyLoss(
    on(logits), on(i32(c.targets)),
    {
      weights: on(f32(c.weights)),
      ...(c.opts.pgCoef !== 0 && { oldLogp: on(f32(c.oldLogp)), advantages: on(f32(c.advantages)) }),
      ...(c.opts.klCoef !== 0 && { refLogp: on(f32(c.refLogp)) }),
    },
    { ...c.opts, ...extra },
  );
}

/** Per-token float64 upstream gradients and the error budgets of the native terms. */
export function termErrors(c: Case) {
  const { n, v, x, targets, opts } = c;
  const ref = tokenLogprobsRef(x, n, v, targets, opts.temperature);
  const gl = new Float64Array(n), gh = new Float64Array(n), dglErr = new Float64Array(n);
  const pgErr = new Float64Array(n), klErr = new Float64Array(n), hErr = new Float64Array(n), lpErr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = rowBudget(x, i * v, v, targets[i]!, opts.temperature, { lse: ref.lse[i]!, entropy: ref.entropy[i]! });
    const lp = ref.logp[i]!, w = c.weights[i]!;
    lpErr[i] = b.logp;
    hErr[i] = b.entropy;
    let g = 0, gErr = 0;
    if (opts.pgCoef !== 0) {
      const pg = ppoClipTokenRef(lp, c.oldLogp[i]!, c.advantages[i]!, opts.clipLow, opts.clipHigh, opts.dualClip);
      const d = lp - c.oldLogp[i]!, ratio = Math.exp(d), A = Math.abs(c.advantages[i]!);
      // ratio = expf(logp − old): Δlogp + u|d| + 1 ulp, relative; the clipped constants round once
      const rel = b.logp + 2 * U * (Math.abs(d) + 2);
      pgErr[i] = A * ratio * rel * 2 + 4 * U * A * (1 + opts.clipHigh + opts.dualClip);
      g += opts.pgCoef * pg.dlogp;
      gErr += Math.abs(opts.pgCoef) * (pg.dlogp === 0 ? 0 : A * ratio * rel * 2);
    }
    if (opts.klCoef !== 0) {
      const kl = klTokenRef(lp, c.refLogp[i]!, opts.klType);
      const d = lp - c.refLogp[i]!, e = Math.exp(-d), ad = Math.abs(d);
      // |∂kl/∂logp| ≤ max(1, |d|, |1 − e|) and |∂²kl/∂logp²| ≤ max(1, e) times Δlogp, plus the kernel's own roundings
      klErr[i] = Math.max(1, ad, Math.abs(1 - e)) * (b.logp + 2 * U * ad) + 8 * U * (e + ad + 1);
      g += opts.klCoef * kl.dlogp;
      gErr += Math.abs(opts.klCoef) * (Math.max(1, e) * (b.logp + 2 * U * ad) + 8 * U * (e + 1) * (1 + ad));
    }
    gl[i] = w * g;
    gh[i] = -w * opts.entropyCoeff;
    // w·g is formed in fp32 from an fp32 sum of coef·term: 4u|terms| more
    dglErr[i] = Math.abs(w) * gErr + 4 * U * Math.abs(w) * (Math.abs(g) + 1e-30) * 2;
  }
  return { ref, gl, gh, dglErr, pgErr, klErr, hErr, lpErr };
}

export function checkAgainstRef(c: Case, out: ReturnType<typeof policyLoss>, dtype: HalfOrF32, scale = 1, abs = 0) {
  const { n, v, x, targets, opts } = c;
  const want = policyLossRef({
    logits: x, n, v, targets, weights: c.weights, oldLogp: c.oldLogp, refLogp: c.refLogp, advantages: c.advantages, ...opts,
  });
  const e = termErrors(c);
  let tTotal = 0, tPg = 0, tKl = 0, tH = 0, tPpoKl = 0, wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.abs(c.weights[i]!);
    wsum += c.weights[i]!;
    tPg += w * e.pgErr[i]!;
    tKl += w * e.klErr[i]!;
    tH += w * e.hErr[i]!;
    tPpoKl += w * (e.lpErr[i]! + 2 * U * Math.abs(c.oldLogp[i]! - want.logp[i]!));
    // term = pgC·pg + klC·kl − entC·H is summed in fp32: 3 roundings of its parts
    tTotal += w * (Math.abs(opts.pgCoef) * e.pgErr[i]! + Math.abs(opts.klCoef) * e.klErr[i]! + Math.abs(opts.entropyCoeff) * e.hErr[i]!);
    tTotal += w * 4 * U * 10 * (Math.abs(opts.pgCoef) * 6 + Math.abs(opts.klCoef) * 10 + Math.abs(opts.entropyCoeff) * 12);
  }
  const s = out.stats;
  // scale / abs widen every budget for another implementation (the CUDA kernels' approximate exp2/log2)
  const close = (a: number, b: number, tol: number, what: string) => {
    const t = scale * tol + abs * (1 + Math.abs(b));
    if (!(Math.abs(a - b) <= t)) expect.fail(`${what}: ${a} vs ${b}, |err| ${Math.abs(a - b)} > ${t}`);
  };
  close(s.weightSum, want.stats.weightSum, 1e-12, "weightSum");
  close(s.pgLoss, want.stats.pgLoss, tPg + 1e-15, "pgLoss");
  close(s.klLoss, want.stats.klLoss, tKl + 1e-15, "klLoss");
  close(s.entropy, want.stats.entropy, tH + 1e-15, "entropy");
  close(s.total, want.stats.total, tTotal + 1e-15, "total");
  // branch decisions are exact away from the kinks: the fractions match to float64 summation order
  close(s.clipFrac, want.stats.clipFrac, 1e-12, "clipFrac");
  close(s.dualClipFrac, want.stats.dualClipFrac, 1e-12, "dualClipFrac");
  close(s.ppoKl, want.stats.ppoKl, (wsum > 0 ? tPpoKl / wsum : 0) + 1e-12, "ppoKl");
  const lp = out.logp.toArray(), en = out.entropy.toArray();
  for (let i = 0; i < n; i++) {
    close(lp[i]!, want.logp[i]!, e.lpErr[i]!, `logp[${i}]`);
    close(en[i]!, want.entropy[i]!, e.hErr[i]!, `entropy[${i}]`);
  }
  if (out.dlogits) {
    // the reference's dlogits are exactly the row backward of (gl, gh): checkBackward's expectation
    const viaRows = tokenLogprobsBackwardRef(x, n, v, targets, opts.temperature, e.gl, e.gh);
    for (let k = 0; k < n * v; k++) {
      if (!(Math.abs(viaRows[k]! - want.dlogits[k]!) <= 1e-12 * (1 + Math.abs(want.dlogits[k]!)))) expect.fail(`ref dlogits[${k}]`);
    }
    checkBackward(x, n, v, targets, opts.temperature, e.gl, e.gh, floatValues(out.dlogits), { dtype, dglErr: e.dglErr, scale, abs });
  }
}

