/**
 * Shared helpers for the native kernel tests: seeded input generation, fp32
 * error budgets derived from the kernels' arithmetic, and central finite
 * differences on the float64 references.
 *
 * Error model (see README.md): u = 2^-24 is the fp32 unit roundoff (half an
 * ulp, ~6e-8 relative). The CPU row kernels sum e^(z-m) in 16 lanes over
 * blocks of 2048 elements, then add the block sums, so a row sum of positive
 * terms has relative error <= depth(v)·u with depth(v) = ceil(min(v, 2048)/16)
 * + 16 + ceil(v/2048) (Higham's bound for recursive summation of positive
 * terms, one term per addition on the longest path). The exp polynomial is
 * accurate to ~2 ulp = 4u relative.
 */
import { expect } from "vitest";

import { mulberry32 as rng } from "@rlvr/testing/rng";

import { Tensor } from "../src/index.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, tokenLogprobsRef } from "../src/reference/index.js";

export const U = 2 ** -24;
export const LN_FLT_MAX = Math.log(3.4028234663852886e38);

/** Longest addition chain of the CPU row sum over v elements (see header). */
export function depth(v: number): number {
  return Math.ceil(Math.min(v, 2048) / 16) + 16 + Math.ceil(v / 2048);
}

/** The tests' seeded PRNG (mulberry32, @rlvr/testing). */
export { rng };

export type HalfOrF32 = "f32" | "f16" | "bf16";

/** Quantizes float values to the dtype; returns the tensor and the de-quantized values the kernel sees. */
export function logitsTensor(values: ArrayLike<number>, n: number, v: number, dtype: HalfOrF32 = "f32"): { t: Tensor; x: Float64Array } {
  const x = new Float64Array(n * v);
  if (dtype === "f32") {
    const a = Float32Array.from(values as ArrayLike<number>);
    for (let i = 0; i < a.length; i++) x[i] = a[i]!;
    return { t: Tensor.from(a, [n, v], "f32"), x };
  }
  const enc = dtype === "bf16" ? f32ToBf16 : f32ToF16, dec = dtype === "bf16" ? bf16ToF32 : f16ToF32;
  const bits = new Uint16Array(n * v);
  for (let i = 0; i < n * v; i++) {
    bits[i] = enc(values[i] as number);
    x[i] = dec(bits[i]!);
  }
  return { t: Tensor.from(bits, [n, v], dtype), x };
}

/** De-quantized values of a float tensor (f32, f16 or bf16) as float64. */
export function floatValues(t: Tensor): Float64Array {
  const a = t.toArray();
  const out = new Float64Array(a.length);
  if (t.dtype === "f16") for (let i = 0; i < a.length; i++) out[i] = f16ToF32(a[i]!);
  else if (t.dtype === "bf16") for (let i = 0; i < a.length; i++) out[i] = bf16ToF32(a[i]!);
  else for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

export const f32 = (a: ArrayLike<number>, shape?: number[]) => Tensor.from(Float32Array.from(a as ArrayLike<number>), shape ?? [a.length], "f32");
export const i32 = (a: ArrayLike<number>, shape?: number[]) => Tensor.from(Int32Array.from(a as ArrayLike<number>), shape ?? [a.length], "i32");
export const vals = (t: Tensor) => Array.from(t.toArray() as ArrayLike<number>);

/**
 * Random logits [n, v]: a scale (e.g. 1, 30, 1e4), a fraction of -inf entries
 * (each row keeps at least one finite entry) and optionally values on a 1/1024
 * grid (exact in fp32, used for the shift-invariance test).
 */
export function randomLogits(seed: number, n: number, v: number, scale: number, infFrac = 0, grid = false): { values: Float64Array; targets: Int32Array } {
  const r = rng(seed);
  const values = new Float64Array(n * v), targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let finite = 0;
    for (let j = 0; j < v; j++) {
      let x = (2 * r() - 1) * scale;
      if (grid) x = Math.round(x * 1024) / 1024;
      if (r() < infFrac) x = -Infinity;
      else finite++;
      values[i * v + j] = x;
    }
    if (finite === 0) values[i * v + Math.floor(r() * v)] = grid ? 0 : scale * r();
    targets[i] = Math.floor(r() * v);
  }
  return { values, targets };
}

export interface RowBudget {
  lse: number;
  logp: number;
  entropy: number;
}

/**
 * fp32 error budget of one forward row, against the exact result on the same
 * (de-quantized) inputs. At τ != 1, z = x·fl(1/τ) carries 2u relative error,
 * so every |z| (|z_t|, |m|) enters with 3u; at τ = 1, z = x and m are exact.
 * lse = m + log s adds u|lse| and the relative error of s: (depth + 4 for exp
 * + 8 slack)·u; logp = z_t − lse adds u|lse| (the subtraction). The entropy
 * log s − w/s has no cancellation (w <= 0); its d = z − m over contributing
 * entries (d > −87) is exact by Sterbenz when |m| >= 174 and τ = 1, else off
 * by u(|z| + |m|) <= u(2|m| + 87); w/s carries the same depth·u relative error
 * as s. A safety factor of 4 covers the bound's constants.
 */
export function rowBudget(x: ArrayLike<number>, off: number, v: number, target: number, temperature: number, ref: { lse: number; entropy: number }): RowBudget {
  let m = -Infinity;
  for (let j = 0; j < v; j++) m = Math.max(m, (x[off + j] as number) / temperature);
  const zt = Math.abs((x[off + target] as number) / temperature);
  const am = Math.abs(m), al = Math.abs(ref.lse);
  const exact = temperature === 1;
  const dep = depth(v) + 12;
  const lse = 4 * U * ((exact ? 0 : 3 * am) + al + dep);
  const logp = lse + 4 * U * ((exact || !Number.isFinite(zt) ? 0 : 3 * zt) + al);
  const dErr = exact ? Math.min(2 * am + 87, 2 * 174 + 87) : 2 * am + 87;
  const entropy = 4 * U * (2 * dErr + 2 * dep * (1 + ref.entropy));
  return { lse, logp, entropy };
}

/** |actual − expected| <= tol, where an expected value that overflows fp32 must come out as the same infinity. */
export function expectClose(actual: number, expected: number, tol: number, what: string): void {
  const e32 = Math.fround(expected);
  if (!Number.isFinite(e32) || !Number.isFinite(actual)) {
    if (actual !== e32) expect.fail(`${what}: got ${actual}, expected ${e32} (${expected} in float64)`);
    return;
  }
  const err = Math.abs(actual - expected);
  if (!(err <= tol)) expect.fail(`${what}: got ${actual}, expected ${expected}, |err| = ${err} > tol ${tol}`);
}

/** Checks logp / entropy / lse of the native forward against tokenLogprobsRef, row by row. */
export function checkForward(
  x: ArrayLike<number>, n: number, v: number, targets: ArrayLike<number>, temperature: number,
  out: { logp: Tensor; entropy: Tensor; lse: Tensor },
  scale = 1,
  abs = 0,
): void {
  const ref = tokenLogprobsRef(x, n, v, targets, temperature);
  const lp = out.logp.toArray(), en = out.entropy.toArray(), ls = out.lse.toArray();
  for (let i = 0; i < n; i++) {
    const b = rowBudget(x, i * v, v, targets[i] as number, temperature, { lse: ref.lse[i]!, entropy: ref.entropy[i]! });
    expectClose(ls[i]!, ref.lse[i]!, scale * b.lse + abs, `lse[${i}]`);
    expectClose(lp[i]!, ref.logp[i]!, scale * b.logp + abs, `logp[${i}]`);
    expectClose(en[i]!, ref.entropy[i]!, scale * b.entropy + abs * (1 + ref.entropy[i]!), `entropy[${i}]`);
  }
}

/** Half-precision output rounding: half an ulp relative (2^-8 bf16, 2^-11 f16) plus f16's subnormal step. */
export function halfRounding(dtype: HalfOrF32): { rel: number; abs: number } {
  if (dtype === "bf16") return { rel: 2 ** -8, abs: 0 };
  if (dtype === "f16") return { rel: 2 ** -11, abs: 2 ** -25 };
  return { rel: 0, abs: 0 };
}

/**
 * Checks dlogits of the row backward against the float64 analytic gradient
 * (tokenLogprobsBackwardRef semantics), element by element. For element j with
 * p = exp(z − lse), d = z − lse: native d carries Δd = lse budget + 4u(|z| + |lse|),
 * p carries p·(Δd + 8u), H carries the entropy budget, and
 * g = −p(gl + gh(d + H))/τ (+ gl/τ at the target) therefore carries
 * [p(Δd + 8u)(|gl| + |gh|(|d| + H)) + p|gh|(Δd + ΔH)]/τ + 4u|gl|/τ at the
 * target; `dglErr` adds an error already present in the upstream gl. Entries
 * below e^-87 are flushed to 0 by the kernel (absolute 1e-36). Factor 2 slack,
 * then the output dtype's rounding.
 */
export function checkBackward(
  x: ArrayLike<number>, n: number, v: number, targets: ArrayLike<number>, temperature: number,
  gl: ArrayLike<number> | null, gh: ArrayLike<number> | null, dlogits: ArrayLike<number>,
  opts: { dtype?: HalfOrF32; dglErr?: ArrayLike<number>; dghErr?: ArrayLike<number>; scale?: number; abs?: number } = {},
): void {
  const ref = tokenLogprobsRef(x, n, v, targets, temperature);
  const hr = halfRounding(opts.dtype ?? "f32");
  const scale = opts.scale ?? 1, abs = opts.abs ?? 0;
  for (let i = 0; i < n; i++) {
    const b = rowBudget(x, i * v, v, targets[i] as number, temperature, { lse: ref.lse[i]!, entropy: ref.entropy[i]! });
    const lse = ref.lse[i]!, H = ref.entropy[i]!;
    const g1 = gl ? (gl[i] as number) : 0, g2 = gh ? (gh[i] as number) : 0;
    const e1 = opts.dglErr ? (opts.dglErr[i] as number) : 0, e2 = opts.dghErr ? (opts.dghErr[i] as number) : 0;
    for (let j = 0; j < v; j++) {
      const z = (x[i * v + j] as number) / temperature;
      const d = z - lse;
      const p = z === -Infinity ? 0 : Math.exp(d);
      const onehot = j === targets[i] ? 1 : 0;
      const expected = (g1 * (onehot - p) - (p === 0 ? 0 : g2 * p * (d + H))) / temperature;
      // `abs` widens the lse / H errors of another implementation (absolute, e.g. approximate log2)
      const dd = b.lse + abs + 4 * U * (Math.abs(z === -Infinity ? 0 : z) + Math.abs(lse));
      const ad = p === 0 ? 0 : Math.abs(d);
      let tol = (p * (dd + 8 * U) * (Math.abs(g1) + Math.abs(g2) * (ad + H)) + p * Math.abs(g2) * (dd + b.entropy + abs * (1 + H))) / temperature;
      tol += (p * e1 + p * e2 * (ad + H) + onehot * e1) / temperature;
      if (onehot) tol += (4 * U * Math.abs(g1)) / temperature;
      tol = 2 * scale * tol + 1e-36 * (1 + Math.abs(g1) + Math.abs(g2) * 100);
      tol += hr.rel * Math.abs(expected) + hr.abs;
      const got = dlogits[i * v + j] as number;
      const err = Math.abs(got - expected);
      if (!(err <= tol)) expect.fail(`dlogits[${i}, ${j}]: got ${got}, expected ${expected}, |err| = ${err} > tol ${tol}`);
    }
  }
}

/** Central difference of f at x along coordinate k (x is copied). */
export function centralDiff(f: (x: Float64Array) => number, x: Float64Array, k: number, h: number): number {
  const y = Float64Array.from(x);
  y[k] = x[k]! + h;
  const fp = f(y);
  y[k] = x[k]! - h;
  const fm = f(y);
  return (fp - fm) / (2 * h);
}

/** Sum of the array (float64). */
export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s;
}

/** Captures the error thrown by fn (fails when nothing is thrown). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return expect.fail("expected an error to be thrown");
}
