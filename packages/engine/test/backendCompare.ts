/**
 * One engine backend against another through the public Engine API, on the golden fixtures
 * (fixtures/{qwen2,llama,qwen3}.safetensors: Qwen2-shaped with q/k/v biases and a tied LM head,
 * Llama-shaped untied, Qwen3-shaped with per-head q/k RMSNorm and heads x head_dim != hidden). Shared by backends.test.ts ("ops-cpu" vs "cpu") and
 * backends.gpu.test.ts ("cuda" vs "cpu" / "ops-cpu").
 *
 * Compared: the parameter registry and a bitwise parameter round trip; score (logp, entropy)
 * with LM-head chunks; full logits; forwardBackward twice (accumulating: loss stats, per-token
 * logp / entropy, every gradient); one AdamW step (grad norm, each engine against the
 * torch.optim.AdamW formula on its own gradients, the two engines' parameters and moments) and
 * an optimizer-state round trip; prefill + decode steps (next-token logits).
 *
 * compareCriticBackends: the same for a critic (valueHead: true) on fixtures/qwen2_critic.safetensors:
 * values, valueForwardBackward twice (values, loss, clipFrac, weightSum, every gradient, grad
 * norm), one AdamW step (parameters and moments across engines), values after the step, and the
 * LM-head paths' typed error. The policy's tolerance set applies (see compareCriticBackends).
 *
 * Every comparison prints `[label] fixture.what err=<measured> tol=<bound>` so a run records
 * the measured errors next to the bounds. err is max|test - ref| ("abs"), or that over
 * max|ref| ("scaled", per tensor), or relative for scalars ("rel").
 */
import { describe, expect, it } from "vitest";

import { Engine, type EngineOptions } from "../src/index.js";
import type { TensorData } from "@rlvr/model";

import { type Golden, gaussian, loadFixture, loadGolden, maxAbs, rng, toI32 } from "./helpers.js";

export interface BackendTolerances {
  /** per-token logp (abs) */
  logp: number;
  /** per-token entropy (abs) */
  entropy: number;
  /** loss statistics total / pgLoss / klLoss / entropy (abs; weighted means, O(0.1..1)) */
  loss: number;
  /** each parameter's gradient, and the AdamW moments (scaled by the tensor's max |ref|) */
  grad: number;
  /** global gradient norm (rel) */
  gradNorm: number;
  /** full / prefill / decode logits (scaled by max |ref|) */
  logits: number;
  /** where the bounds come from (printed) */
  why: string;
}

// ---- tolerance sets (each with where it comes from) ------------------------------------------
// Fixture measurements below are printed by every run ("[label] fixture.what err=.. tol=..").

/**
 * "ops-cpu" vs "cpu", fp32. Same formulas in the same op order; they differ only in the GEMM's
 * accumulation (fp64 in the ops reference, fp32 fixed-order panels in the cpu backend's GEMM) and attention's
 * dot-product reduction order. Measured by rlvr_ops_model_cpu_check on its random models
 * (native/test/model_suite.h): logp 1.9e-5, entropy 9.2e-6, loss stats 9.0e-7, gradients
 * 9.0e-6 of each tensor's max, grad norm 4.3e-7 rel, logits 8.3e-7 of max; on these fixtures:
 * logp 6.7e-6, entropy 2.3e-6, loss 1.1e-6, gradients 8.0e-6 of max, grad norm 1.3e-6 rel,
 * logits 5.2e-7 of max. Bounds ~10x (grad norm: 1e-5, its relative error cannot exceed the
 * gradients'). A real bug (a wrong RoPE pair, mask, bias, head mapping, missing gradient term)
 * moves values by 1e-2..1.
 */
export const OPS_CPU_VS_CPU: BackendTolerances = {
  logp: 2e-4, entropy: 1e-4, loss: 1e-5, grad: 1e-4, gradNorm: 1e-5, logits: 1e-5,
  why: "fp32, GEMM accumulation / attention reduction order only; ~10x the measured errors",
};

/**
 * "ops-cpu" with bf16Gemm vs "cpu" (fp32): a smoke check of the bf16 path. bf16 operands (2^-9
 * relative rounding) move these tiny models' outputs a lot: measured on the fixtures logp 0.18,
 * entropy 0.046, loss stats 8.3e-3, gradients 0.18 of max, grad norm 8.1% rel, logits 0.010 of
 * max (the suite's random models: about half that). Bounds ~5-10x: they catch garbage (a wrong
 * cast or operand gives errors of order 1 of max), not subtle bugs; the bf16 math itself is
 * checked by CUDA bf16 vs ops-cpu bf16 (CUDA_BF16_VS_OPS_CPU_BF16). Smooth loss.
 */
export const BF16_VS_FP32: BackendTolerances = {
  logp: 1, entropy: 0.4, loss: 0.05, grad: 0.9, gradNorm: 0.4, logits: 0.1,
  why: "bf16 GEMM operands vs fp32; ~5-10x the effect measured on these fixtures",
};

/**
 * "cuda" vs "cpu", fp32 GEMMs. Two sources, the larger bound of each kept: (a) ~10x the errors
 * measured on an H100 (bench/results/gpu-h100/node-gpu-tests.txt, 2026-11-26; worst over both
 * fixtures, packed batches, scorePrefixed and the critic): logp 8.6e-6, entropy 3.0e-6, loss
 * 5.9e-7, gradients 9.3e-6 of max, grad norm 1.3e-6 rel, logits 4.7e-7 of max; (b) 10x how far
 * fp32-level noise moves these fixtures: ops-cpu with weights x (1 + 1e-6 N) vs without measured
 * logp 1.35e-4, entropy 4.9e-5, loss 5.7e-6, gradients 4.8e-5 of max, grad norm 1.6e-5 rel,
 * logits 7.5e-6 of max (backends.test.ts runs that check against these bounds). (b) is the larger
 * everywhere: a CUDA kernel may reorder its sums as freely as that noise, no more.
 * The ops-cpu-vs-cpu part (OPS_CPU_VS_CPU) is below a fifth of each.
 */
export const CUDA_FP32_VS_CPU: BackendTolerances = {
  logp: 1.5e-3, entropy: 1e-3, loss: 1e-4, grad: 1e-3, gradNorm: 2e-4, logits: 2e-4,
  why: "10x the response to 1e-6 weight noise (H100 measured >= 100x below each)",
};

/**
 * "cuda" bf16Gemm vs "ops-cpu" bf16Gemm: the same bf16 math on both, so any tiny upstream
 * difference (fp32 op rounding) flips the bf16 rounding of some operands (one bf16 ulp = 2^-8)
 * and the outputs differ by a good part of the bf16 effect itself. Bounds: the suite's bf16
 * noise bounds (bf16_noise_tolerances); on these fixtures, ops-cpu bf16 with weights x
 * (1 + 1e-6 N) vs without measured logp 0.061, entropy 0.015, loss 1.4e-3, gradients 0.013 of
 * max, grad norm 2.1e-3 rel, logits 4.2e-3 of max, >= 6x below each bound (backends.test.ts runs
 * that check). On an H100 (2026-11-26) CUDA bf16 vs ops-cpu bf16 measured logp 3.7e-4, entropy
 * 1.7e-4, loss 4.8e-7, gradients 7.3e-7 of max: few roundings flipped on these fixtures, but
 * which flip depends on the data, so the bounds stay at the noise basis. Smooth loss.
 */
export const CUDA_BF16_VS_OPS_CPU_BF16: BackendTolerances = {
  logp: 0.4, entropy: 0.3, loss: 0.04, grad: 0.4, gradNorm: 0.05, logits: 0.07,
  why: "bf16 rounding flips; >= 6x the response to 1e-6 weight noise (H100 measured >= 1000x below)",
};

export interface CompareOptions {
  /** No PPO clipping (ratio clip range [1e-4, 1e6], no dual clip): for paths whose logp errors are large
   * enough (bf16) to move tokens across the clip boundary, where the gradient jumps. */
  smoothLoss?: boolean;
  /** The reference engine gets the weights x (1 + refWeightNoise N(0, 1)) (fixed seed): how far
   * fp32-level noise moves a path (bf16 rounding flips), e.g. to back a bound by a measurement. */
  refWeightNoise?: number;
}

export const FIXTURE_NAMES = ["qwen2", "llama", "qwen3"] as const;

// AdamW (one step, lr 1e-3): a first step moves each parameter by ~ lr * g / |g| = +-lr, so a
// near-zero gradient whose sign differs between two engines moves a parameter by 2 lr: the
// engines' parameters are compared within 2.5 lr, and the optimizer itself tightly, each
// engine against the fp64 torch formula on its own gradients: fp32 rounding of
// p * (1 - lr wd) and of the update, 2 ulp of |p|, plus 1e-4 lr for the fp32 step arithmetic.
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
const PARAM_FLIP_LR = 2.5;

function report(label: string, what: string, err: number, tol: number, kind: string): void {
  console.log(`[${label}] ${what} err=${err.toExponential(2)}(${kind}) tol=${tol.toExponential(1)}`);
}

/** max |a - b| (optionally over max |b|); both arrays finite. */
function diff(a: Float32Array, b: Float32Array, scaled: boolean): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    expect(Number.isFinite(a[i]!), `non-finite at ${i}`).toBe(true);
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
  }
  if (!scaled) return e;
  const s = maxAbs(b);
  return s > 0 ? e / s : e;
}

function check(label: string, what: string, got: Float32Array, want: Float32Array, tol: number, scaled: boolean): number {
  const err = diff(got, want, scaled);
  report(label, what, err, tol, scaled ? "scaled" : "abs");
  expect(err, `${what}: err ${err} > tol ${tol}`).toBeLessThanOrEqual(tol);
  return err;
}

function checkScalar(label: string, what: string, got: number, want: number, tol: number, rel: boolean): void {
  const e = Math.abs(got - want) / (rel && want !== 0 ? Math.abs(want) : 1);
  report(label, what, e, tol, rel ? "rel" : "abs");
  expect(Number.isFinite(got)).toBe(true);
  expect(e, `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol);
}

/** Every parameter's accumulated gradient (scaled error; the reference's must be non-zero) and the grad norm. */
function checkGradients(label: string, what: string, t: Engine, r: Engine, tol: { grad: number; gradNorm: number }): void {
  let worst = 0, worstName = "";
  for (const n of r.parameterNames()) {
    const gt = t.gradient(n), gr = r.gradient(n);
    expect(maxAbs(gr), `${n}: reference gradient is zero`).toBeGreaterThan(0);
    const e = diff(gt, gr, true);
    if (e > worst) [worst, worstName] = [e, n];
    expect(e, `${what}.grad ${n}: ${e} > ${tol.grad}`).toBeLessThanOrEqual(tol.grad);
  }
  report(label, `${what}.grad (worst: ${worstName})`, worst, tol.grad, "scaled");
  checkScalar(label, `${what}.gradNorm`, t.gradNorm(), r.gradNorm(), tol.gradNorm, true);
}

function fixtureInputs(g: Golden, smooth: boolean) {
  const x = {
    batch: g.batch, length: g.length,
    inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask!, targets: toI32(g.t.targets!),
  };
  const resp = Float32Array.from(g.t.weights!, (w) => (w !== 0 ? 1 : 0));
  const loss = smooth ? { ...g.loss, clipLow: 0.9999, clipHigh: 1e6, dualClip: 0 } : g.loss;
  const fb = {
    ...x, ...loss, weights: g.t.weights!, oldLogp: g.t.old_logp!, refLogp: g.t.ref_logp!, advantages: g.t.advantages!,
  };
  return { x, resp, fb };
}

function perturbed(weights: Map<string, TensorData>, rel: number): Map<string, TensorData> {
  const r = rng(5);
  return new Map(
    [...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data.map((x) => x * (1 + rel * gaussian(r))) }]),
  );
}

function argmaxRows(logits: Float32Array, rows: number, v: number): Int32Array {
  return Int32Array.from({ length: rows }, (_, b) => {
    let best = 0;
    for (let j = 1; j < v; j++) if (logits[b * v + j]! > logits[b * v + best]!) best = j;
    return best;
  });
}

/**
 * Registers the comparison of `test` (an engine built with testOpts) against `ref` (refOpts)
 * for every fixture: one `describe` per fixture.
 */
export function compareBackends(
  label: string,
  testOpts: EngineOptions,
  refOpts: EngineOptions,
  tol: BackendTolerances,
  opts: CompareOptions = {},
): void {
  for (const name of FIXTURE_NAMES) {
    describe(`${label}: ${name} fixture`, async () => {
      const g = await loadGolden(name);
      const { x, resp, fb } = fixtureInputs(g, opts.smoothLoss === true);
      const V = g.config.vocabSize;
      const refWeights = opts.refWeightNoise ? perturbed(g.weights, opts.refWeightNoise) : g.weights;
      const make = () => ({
        t: Engine.fromWeights(g.config, g.weights, testOpts),
        r: Engine.fromWeights(g.config, refWeights, refOpts),
      });
      const tag = (what: string) => `${name}.${what}`;
      console.log(`[${label}] bounds: ${tol.why}`);

      it("backend, parameter registry and a bitwise parameter round trip; zero gradients before training", async () => {
        const { t, r } = make();
        expect(t.backend).toBe(testOpts.backend ?? "cpu");
        expect(r.backend).toBe(refOpts.backend ?? "cpu");
        expect(t.parameterNames()).toEqual(r.parameterNames());
        expect(t.numParameters).toBe(r.numParameters);
        for (const n of t.parameterNames()) {
          expect(t.parameter(n)).toEqual(g.weights.get(n)!.data);
          expect(maxAbs(t.gradient(n))).toBe(0);
        }
        expect(t.gradNorm()).toBe(0);
      });

      it("score: per-token logp and entropy at the loss temperature, LM head in chunks of 4 rows", async () => {
        const { t, r } = make();
        t.setLmChunkRows(4);
        r.setLmChunkRows(4);
        const a = await t.score({ ...x, scoreMask: resp, temperature: g.loss.temperature });
        const b = await r.score({ ...x, scoreMask: resp, temperature: g.loss.temperature });
        for (let i = 0; i < resp.length; i++) if (resp[i] === 0) expect([a.logp[i], a.entropy[i]]).toEqual([0, 0]);
        check(label, tag("score.logp"), a.logp, b.logp, tol.logp, false);
        check(label, tag("score.entropy"), a.entropy, b.entropy, tol.entropy, false);
      });

      it("logits: every row (padding included), temperature 1", async () => {
        const { t, r } = make();
        const a = await t.logitsForTesting(x), b = await r.logitsForTesting(x);
        expect(a.length).toBe(g.batch * g.length * V);
        check(label, tag("logits"), a, b, tol.logits, true);
      });

      it("forwardBackward twice (gradients accumulate): loss stats, per-token logp / entropy, every gradient", async () => {
        const { t, r } = make();
        t.setLmChunkRows(5);
        r.setLmChunkRows(5);
        for (const call of [1, 2]) {
          const a = await t.forwardBackward(fb), b = await r.forwardBackward(fb);
          const stats = ["total", "pgLoss", "klLoss", "entropy"] as const;
          for (const k of stats) checkScalar(label, tag(`fb${call}.${k}`), a[k], b[k], tol.loss, false);
          checkScalar(label, tag(`fb${call}.weightSum`), a.weightSum, b.weightSum, 1e-6, true);
          check(label, tag(`fb${call}.tokenLogp`), a.tokenLogp, b.tokenLogp, tol.logp, false);
          check(label, tag(`fb${call}.tokenEntropy`), a.tokenEntropy, b.tokenEntropy, tol.entropy, false);
          checkGradients(label, tag(`fb${call}`), t, r, tol);
        }
      });

      it("scorePrefixed: 2 shared prompts (one left-padded) continued by rows of different lengths", async () => {
        const { t, r } = make();
        const rnd = rng(17), tok = () => 1 + Math.floor(rnd() * (V - 1));
        const P = 4, R = 5, E = 7, lens = [7, 1, 5, 3, 6], group = Int32Array.from([0, 1, 1, 0, 1]);
        const prefix = {
          batch: 2, length: P, inputIds: Int32Array.from({ length: 2 * P }, tok),
          attentionMask: Float32Array.from({ length: 2 * P }, (_, i) => (i === P ? 0 : 1)),
        };
        const ids = Int32Array.from({ length: R * E }, tok);
        const mask = Float32Array.from({ length: R * E }, (_, i) => (i % E < lens[Math.floor(i / E)]! ? 1 : 0));
        const targets = Int32Array.from({ length: R * E }, tok);
        const ext = { batch: R, length: E, inputIds: ids, attentionMask: mask, targets, temperature: g.loss.temperature };
        const a = await t.scorePrefixed({ ...ext, prefix, group }), b = await r.scorePrefixed({ ...ext, prefix, group });
        check(label, tag("scorePrefixed.logp"), a.logp, b.logp, tol.logp, false);
        check(label, tag("scorePrefixed.entropy"), a.entropy, b.entropy, tol.entropy, false);
      });

      it("packed sequences (segmentIds, each row split in two): score, forwardBackward's loss and every gradient", async () => {
        const { t, r } = make();
        const segmentIds = Int32Array.from({ length: g.batch * g.length }, (_, i) => (i % g.length < g.length / 2 ? 0 : 1));
        const a = await t.score({ ...x, segmentIds, scoreMask: resp, temperature: g.loss.temperature });
        const b = await r.score({ ...x, segmentIds, scoreMask: resp, temperature: g.loss.temperature });
        check(label, tag("packed.score.logp"), a.logp, b.logp, tol.logp, false);
        check(label, tag("packed.score.entropy"), a.entropy, b.entropy, tol.entropy, false);
        // packing changes the numbers (a real test): the second halves lose their context
        const unpacked = await r.score({ ...x, scoreMask: resp, temperature: g.loss.temperature });
        expect(diff(b.logp, unpacked.logp, false)).toBeGreaterThan(0.05);
        // old / ref log-probs of the packed sequences themselves (ratios near 1, as in training)
        const fbp = { ...fb, segmentIds, oldLogp: b.logp, refLogp: b.logp.map((v, i) => v + 0.1 * Math.sin(i)) };
        const fa = await t.forwardBackward(fbp), fr = await r.forwardBackward(fbp);
        checkScalar(label, tag("packed.fb.total"), fa.total, fr.total, tol.loss, false);
        check(label, tag("packed.fb.tokenLogp"), fa.tokenLogp, fr.tokenLogp, tol.logp, false);
        checkGradients(label, tag("packed.fb"), t, r, tol);
      });

      it("optimizerStep (AdamW): grad norm; each engine vs the torch formula on its own gradients; parameters and moments across engines; state round trip", async () => {
        const { t, r } = make();
        await t.forwardBackward(fb);
        await r.forwardBackward(fb);
        const names = r.parameterNames();
        const before = new Map(
          names.map((n) => [n, { pt: t.parameter(n), pr: r.parameter(n), gt: t.gradient(n), gr: r.gradient(n) }]),
        );
        const st = await t.optimizerStep(ADAM), sr = await r.optimizerStep(ADAM);
        expect([st.step, st.skipped, sr.step, sr.skipped]).toEqual([1, false, 1, false]);
        checkScalar(label, tag("adam.gradNorm"), st.gradNorm, sr.gradNorm, tol.gradNorm, true);
        const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, maxGradNorm } = ADAM;
        let worstFormula = 0, worstCross = 0;
        for (const [engine, pKey, gradKey] of [[t, "pt", "gt"], [r, "pr", "gr"]] as const) {
          let ss = 0;
          for (const n of names) for (const v of before.get(n)![gradKey]) ss += v * v;
          const clip = Math.min(1, maxGradNorm / (Math.sqrt(ss) + 1e-6));
          for (const n of names) {
            const e = before.get(n)!, p = e[pKey], gr = e[gradKey];
            const now = engine.parameter(n);
            // one expect per tensor (naming the first element out of bounds): an expect per
            // element made this test hold the event loop for seconds on a loaded machine
            let firstBad: string | null = null;
            for (let i = 0; i < p.length; i++) {
              const gc = gr[i]! * clip, m = (1 - b1) * gc, v = (1 - b2) * gc * gc;
              const want = p[i]! * (1 - lr * wd) - (lr / (1 - b1)) * m / (Math.sqrt(v) / Math.sqrt(1 - b2) + eps);
              const err = Math.abs(now[i]! - want), bound = 1e-4 * lr + 2 * 2 ** -23 * Math.max(Math.abs(p[i]!), Math.abs(want));
              worstFormula = Math.max(worstFormula, err / bound);
              if (err > bound && firstBad === null) firstBad = `${n}[${i}]: |${now[i]} - ${want}| = ${err} > ${bound}`;
            }
            expect(firstBad, `${engine.backend} vs the AdamW formula`).toBeNull();
          }
        }
        report(label, tag("adam.params_vs_formula (err / bound)"), worstFormula, 1, "ratio");
        for (const n of names) {
          const e = diff(t.parameter(n), r.parameter(n), false) / lr;
          worstCross = Math.max(worstCross, e);
          expect(e, `${n}: parameters differ by ${e} lr`).toBeLessThanOrEqual(PARAM_FLIP_LR);
        }
        report(label, tag("adam.params (lr units)"), worstCross, PARAM_FLIP_LR, "abs/lr");
        const ot = t.optimizerState(), or = r.optimizerState();
        expect([ot.step, or.step]).toEqual([1, 1]);
        let worstM = 0;
        for (const n of names) {
          const a = ot.moments.get(n)!, b = or.moments.get(n)!;
          worstM = Math.max(worstM, diff(a.m, b.m, true));
          expect(diff(a.m, b.m, true)).toBeLessThanOrEqual(tol.grad);
          // v = (1 - b2) (clip g)^2: twice the relative error of g
          expect(diff(a.v, b.v, true)).toBeLessThanOrEqual(2 * tol.grad);
        }
        report(label, tag("adam.m"), worstM, tol.grad, "scaled");
        // The test engine's state carried into a fresh engine of the same backend: the next
        // step is bitwise that of the engine that kept going (every backend is deterministic).
        const t2 = Engine.fromWeights(g.config, t.exportWeights(), testOpts);
        t2.loadOptimizerState(ot);
        expect(t2.optimizerState().step).toBe(1);
        await t.forwardBackward(fb);
        await t2.forwardBackward(fb);
        expect(await t2.optimizerStep(ADAM)).toEqual(await t.optimizerStep(ADAM));
        for (const n of names) expect(t2.parameter(n)).toEqual(t.parameter(n));
      });

      it("decode: prefill + 5 steps, next-token logits (tokens: the reference's argmax, fed to both)", async () => {
        const { t, r } = make();
        const steps = 5;
        let a = await t.decode.prefill({ ...x, capacity: g.length + steps });
        let b = await r.decode.prefill({ ...x, capacity: g.length + steps });
        let worst = 0;
        for (let s = 0; s <= steps; s++) {
          expect(a.length).toBe(g.batch * V);
          worst = Math.max(worst, check(label, tag(`decode[${s}].logits`), a, b, tol.logits, true));
          if (s === steps) break;
          const tok = argmaxRows(b, g.batch, V);
          a = await t.decode.step(tok);
          b = await r.decode.step(tok);
        }
        report(label, tag("decode.logits (worst step)"), worst, tol.logits, "scaled");
        t.decode.reset();
        r.decode.reset();
      });
    });
  }
}

/**
 * Registers the critic comparison of `test` (testOpts + valueHead) against `ref` (refOpts +
 * valueHead) on fixtures/qwen2_critic.safetensors (the qwen2 body with a score head; clip from
 * its metadata, chosen so both branches of the clipped loss are taken). Bounds: the policy's set
 * `tol`, because the critic is the same body with a cheaper head: a value is an h-term dot
 * product of the final hidden state (|score.w| <~ 1.5), the same size and error class as a
 * logit, far below a log-prob's (no log-softmax over V), so values take tol.logp (abs); the
 * loss, clipFrac and weightSum are weighted means like the policy's stats (tol.loss, abs); the
 * body's gradients are those of forwardBackward with a different d hidden, and the head's are
 * one GEMM of d value and the hidden state (tol.grad, scaled by each tensor's max); grad norm
 * tol.gradNorm (rel); the AdamW step as compareBackends (2.5 lr, moments tol.grad).
 * Measured ("ops-cpu" vs "cpu", printed by every run): values 2.9e-6, loss 3.1e-7, clipFrac 0,
 * gradients 5.5e-6 of max, grad norm 9.0e-7 rel, AdamW m 6.1e-6 of max, values after the step
 * 6.6e-6 (rlvr_ops_model_cpu_check's critic runs on random models: values 2.7e-6, loss 3.2e-7,
 * gradients 5.1e-6 of max): every bound >= 10x the measurement. A wrong head (a missing bias,
 * a gradient not scattered to its row, a transposed product) moves values or gradients by O(0.1).
 */
export function compareCriticBackends(
  label: string,
  testOpts: EngineOptions,
  refOpts: EngineOptions,
  tol: BackendTolerances,
): void {
  describe(`${label}: qwen2_critic fixture`, async () => {
    const g = await loadFixture("qwen2_critic");
    const clip = JSON.parse(g.metadata.clip!) as number;
    const x = { batch: g.batch, length: g.length, inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask! };
    const resp = Float32Array.from(g.t.weights!, (w) => (w !== 0 ? 1 : 0));
    const vfb = { ...x, weights: g.t.weights!, oldValues: g.t.old_values!, returns: g.t.returns!, clip };
    const make = () => ({
      t: Engine.fromWeights(g.config, g.weights, { ...testOpts, valueHead: true }),
      r: Engine.fromWeights(g.config, g.weights, { ...refOpts, valueHead: true }),
    });
    const tag = (what: string) => `qwen2_critic.${what}`;
    console.log(`[${label}] critic bounds: the policy's set (${tol.why})`);

    it("backend, critic parameter registry; values on the scored rows (0 elsewhere) and on every real row", async () => {
      const { t, r } = make();
      expect(t.backend).toBe(testOpts.backend ?? "cpu");
      expect(t.valueHead).toBe(true);
      expect(t.parameterNames()).toEqual(r.parameterNames());
      expect(t.parameterNames()).toContain("score.weight");
      expect(t.numParameters).toBe(r.numParameters);
      const a = await t.values({ ...x, scoreMask: resp }), b = await r.values({ ...x, scoreMask: resp });
      for (let i = 0; i < resp.length; i++) if (resp[i] === 0) expect(a[i]).toBe(0);
      check(label, tag("values"), a, b, tol.logp, false);
      check(label, tag("values(mask)"), await t.values(x), await r.values(x), tol.logp, false);
    });

    it("valueForwardBackward twice (gradients accumulate): values, loss, clipFrac, weightSum, every gradient", async () => {
      const { t, r } = make();
      for (const call of [1, 2]) {
        const a = await t.valueForwardBackward(vfb), b = await r.valueForwardBackward(vfb);
        expect(b.clipFrac).toBeGreaterThan(0.1); // both branches of the clipped loss
        expect(b.clipFrac).toBeLessThan(0.9);
        check(label, tag(`vfb${call}.values`), a.values, b.values, tol.logp, false);
        checkScalar(label, tag(`vfb${call}.loss`), a.loss, b.loss, tol.loss, false);
        checkScalar(label, tag(`vfb${call}.clipFrac`), a.clipFrac, b.clipFrac, tol.loss, false);
        checkScalar(label, tag(`vfb${call}.weightSum`), a.weightSum, b.weightSum, 1e-6, true);
        checkGradients(label, tag(`vfb${call}`), t, r, tol);
      }
    });

    it("optimizerStep (AdamW) on the value loss: grad norm, parameters and moments across engines, values after", async () => {
      const { t, r } = make();
      await t.valueForwardBackward(vfb);
      await r.valueForwardBackward(vfb);
      const st = await t.optimizerStep(ADAM), sr = await r.optimizerStep(ADAM);
      expect([st.step, st.skipped, sr.step, sr.skipped]).toEqual([1, false, 1, false]);
      checkScalar(label, tag("adam.gradNorm"), st.gradNorm, sr.gradNorm, tol.gradNorm, true);
      let worstCross = 0, worstM = 0;
      const ot = t.optimizerState(), or = r.optimizerState();
      for (const n of r.parameterNames()) {
        const e = diff(t.parameter(n), r.parameter(n), false) / ADAM.lr;
        worstCross = Math.max(worstCross, e);
        expect(e, `${n}: parameters differ by ${e} lr`).toBeLessThanOrEqual(PARAM_FLIP_LR);
        const a = ot.moments.get(n)!, b = or.moments.get(n)!;
        worstM = Math.max(worstM, diff(a.m, b.m, true));
        expect(diff(a.m, b.m, true)).toBeLessThanOrEqual(tol.grad);
        expect(diff(a.v, b.v, true)).toBeLessThanOrEqual(2 * tol.grad);
        expect(maxAbs(t.gradient(n))).toBe(0); // zeroed by the step
      }
      report(label, tag("adam.params (lr units)"), worstCross, PARAM_FLIP_LR, "abs/lr");
      report(label, tag("adam.m"), worstM, tol.grad, "scaled");
      // the engines' parameters now differ by up to ~lr (sign flips): values follow within the bound
      check(label, tag("values_after_step"), await t.values({ ...x, scoreMask: resp }), await r.values({ ...x, scoreMask: resp }),
        tol.logp, false);
    });

    it("a critic has no LM head: score, logitsForTesting, forwardBackward and prefill fail as on the cpu engine", async () => {
      const { t, r } = make();
      const fb = { ...x, targets: toI32(g.t.input_ids!), weights: g.t.weights!, oldLogp: resp, advantages: resp };
      const calls: [string, (e: Engine) => unknown][] = [
        ["score", (e) => e.score({ ...x, targets: fb.targets })],
        ["logitsForTesting", (e) => e.logitsForTesting(x)],
        ["forwardBackward", (e) => e.forwardBackward(fb)],
        ["prefill", (e) => e.decode.prefill({ ...x, capacity: g.length + 2 })],
      ];
      for (const [what, call] of calls) {
        const err = async (e: Engine) => {
          try {
            await call(e);
          } catch (ex) {
            return ex as Error & { argument?: string };
          }
          throw new Error(`${what}: no error on a critic`);
        };
        const a = await err(t), b = await err(r);
        expect([a.constructor, a.argument, a.message], what).toEqual([b.constructor, b.argument, b.message]);
        expect(a.argument, `${what}: ${a.message}`).toBe("engine");
      }
    });
  });
}
