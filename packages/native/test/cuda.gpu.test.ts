/**
 * CUDA kernels vs the CPU kernels and the float64 references, on "cuda:0" and
 * "cpu" with the same inputs. Skipped, with the reason printed, where
 * cudaAvailable() is false (CI, or a build without nvcc).
 *
 * Tolerances: each device is checked against the float64 reference with the
 * CPU fp32 budgets of helpers.ts (rowBudget / checkBackward) widened by
 * GPU_SCALE = 3 (a different summation tree: per-thread partial sums then a
 * warp/block tree, whose depth is below the CPU's) plus GPU_ABS = 1e-6
 * absolute on lse / H / logp: the CUDA kernels work in base 2 with
 * ex2.approx (~2 ulp) and approximate log2 (absolute error <= 2^-21.4 in
 * log2 s, i.e. <= 2.6e-7 after the ln 2 factor), with 4x headroom. Elementwise
 * losses use the CPU test formulas x2 (expf: <= 2 ulp on the GPU). Outputs
 * that the two devices compute by identical arithmetic (flags, masks, token
 * broadcast) must agree exactly.
 */
import { describe, expect, it } from "vitest";

import {
  type AggMode, type Device, type KlType, Tensor, aggregationWeights, buildInfo, cudaAvailable, cudaUnavailableReason, deviceMemory, devices, gae, grpoAdvantage, klPenalty,
  resetDeviceMemoryPeak,
  ppoClipLoss, tokenLogprobs, tokenLogprobsBackward, ValueError, valueLoss,
} from "../src/index.js";
import { aggregationWeightsRef, gaeRef, grpoAdvantageRef, klTokenRef, ppoClipTokenRef, valueLossRef } from "../src/reference/index.js";
import { type HalfOrF32, U, checkBackward, checkForward, f32, floatValues, i32, logitsTensor, randomLogits, rng, thrown } from "./helpers.js";
import { checkAgainstRef, makeCase, run } from "./policyCase.js";

const available = cudaAvailable();
const reason = cudaUnavailableReason();
if (!available) console.log(`[cuda.gpu.test.ts] skipped: ${reason}`);

const GPU = "cuda:0" as Device;
const GPU_SCALE = 3, GPU_ABS = 1e-6;
const DEVICES: Device[] = ["cpu", GPU];

describe.skipIf(available)("CUDA kernels", () => {
  it.skip(`skipped: ${reason}`, () => {});
});

describe.skipIf(!available)("CUDA kernels vs CPU kernels (cuda:0 and cpu, same inputs)", () => {
  it("reports the device under test", () => {
    const d = devices();
    expect(d.length).toBeGreaterThan(0);
    console.log(`[cuda.gpu.test.ts] ${d[0]!.name} (cc ${d[0]!.computeCapability}), CUDA runtime ${buildInfo().cudaRuntimeVersion}`);
    expect(d[0]!.freeMemory).toBeGreaterThan(0);
    expect(d[0]!.freeMemory).toBeLessThanOrEqual(d[0]!.totalMemory);
  });

  it("deviceMemory counts rlvr's allocations and their peak", () => {
    const before = deviceMemory(0);
    resetDeviceMemoryPeak(0);
    const t = Tensor.zeros([1 << 20], "f32", GPU);
    const held = deviceMemory(0);
    expect(held.inUse - before.inUse).toBe(4 << 20);
    t.free();
    const after = deviceMemory(0);
    expect(after.inUse).toBe(before.inUse);
    expect(after.peak).toBe(held.inUse);
    resetDeviceMemoryPeak(0);
    expect(deviceMemory(0).peak).toBe(after.inUse);
  });

  const shapes: [number, number][] = [[1, 1], [5, 7], [257, 33], [257, 4096], [3, 151936], [257, 151936]];
  for (const dtype of ["f32", "bf16"] as HalfOrF32[]) {
    for (const [n, v] of shapes) {
      it(`tokenLogprobs + backward, ${dtype}, n = ${n}, v = ${v} (-inf entries, τ = 0.6)`, () => {
        const { values, targets } = randomLogits(n * 31 + v, n, v, 12, 0.05);
        const { t, x } = logitsTensor(values, n, v, dtype);
        const r = rng(n + v);
        const gl = Float32Array.from({ length: n }, () => 2 * r() - 1), gh = Float32Array.from({ length: n }, () => 2 * r() - 1);
        const outs: Record<string, { fwd: ReturnType<typeof tokenLogprobs>; d: Tensor }> = {};
        for (const dev of DEVICES) {
          const lt = t.to(dev), tt = i32(targets).to(dev);
          const fwd = tokenLogprobs(lt, tt, { temperature: 0.6 });
          const d = tokenLogprobsBackward(lt, tt, fwd, { dlogp: f32(gl).to(dev), dentropy: f32(gh).to(dev) }, { temperature: 0.6 });
          outs[dev] = { fwd: { logp: fwd.logp.to("cpu"), entropy: fwd.entropy.to("cpu"), lse: fwd.lse.to("cpu") }, d: d.to("cpu") };
        }
        checkForward(x, n, v, targets, 0.6, outs.cpu!.fwd);
        checkForward(x, n, v, targets, 0.6, outs[GPU]!.fwd, GPU_SCALE, GPU_ABS);
        // the element-wise backward check is O(n·v) in float64 JS: run it where it stays cheap
        if (n * v <= 2_000_000) {
          checkBackward(x, n, v, targets, 0.6, gl, gh, floatValues(outs.cpu!.d), { dtype });
          checkBackward(x, n, v, targets, 0.6, gl, gh, floatValues(outs[GPU]!.d), { dtype, scale: GPU_SCALE, abs: GPU_ABS });
        }
      });
    }
  }

  it("tokenLogprobsBackward in place on cuda:0 equals out of place on cuda:0 bit for bit (bf16)", () => {
    const n = 64, v = 8192;
    const { values, targets } = randomLogits(3, n, v, 8, 0.1);
    const a = logitsTensor(values, n, v, "bf16").t.to(GPU), b = logitsTensor(values, n, v, "bf16").t.to(GPU);
    const tt = i32(targets).to(GPU);
    const fwd = tokenLogprobs(a, tt);
    const grads = { dlogp: f32(Array.from({ length: n }, (_, i) => Math.sin(i))).to(GPU) };
    const outOfPlace = tokenLogprobsBackward(a, tt, fwd, grads).to("cpu");
    const inPlace = tokenLogprobsBackward(b, tt, fwd, grads, { inPlace: true });
    expect(inPlace).toBe(b);
    expect(Array.from(b.toArray())).toEqual(Array.from(outOfPlace.toArray()));
  });

  it("huge-magnitude logits (±1e4 and ±3e38 finite) give the same results on both devices", () => {
    const v = 6;
    const rows = [
      [1e4, -1e4, 0, 1e4 - 1, -Infinity, 3],
      [3e38, -3e38, 0, -Infinity, 3e38, 1],
      [-3e38, -3e38, -3e38, -3e38, -3e38, -3e38],
    ];
    const targets = [3, 1, 0];
    const { t, x } = logitsTensor(rows.flat(), 3, v);
    for (const dev of DEVICES) {
      const fwd = tokenLogprobs(t.to(dev), i32(targets).to(dev));
      checkForward(x, 3, v, targets, 1, { logp: fwd.logp.to("cpu"), entropy: fwd.entropy.to("cpu"), lse: fwd.lse.to("cpu") }, dev === "cpu" ? 1 : GPU_SCALE, dev === "cpu" ? 0 : GPU_ABS);
    }
  });

  it("NaN logits: the same ValueError naming logits and the first bad row on both devices", () => {
    const n = 300, v = 1000;
    const a = new Float32Array(n * v);
    a[123 * v + 5] = NaN;
    a[200 * v + 7] = NaN;
    for (const dev of DEVICES) {
      const e = thrown(() => tokenLogprobs(Tensor.from(a, [n, v]).to(dev), Tensor.zeros([n], "i32").to(dev)));
      expect(e).toBeInstanceOf(ValueError);
      expect((e as ValueError).argument).toBe("logits");
      expect(e.message).toMatch(/row 123\b/);
    }
  });

  it("grpoAdvantage (normStd on/off, groupSize 1 and 16) with token broadcast", () => {
    for (const [g, normStd] of [[1, true], [16, true], [16, false], [5, true]] as [number, boolean][]) {
      const b = g * 20, t = 300, r = rng(g);
      const s = Float32Array.from({ length: b }, () => (r() < 0.5 ? 1 : 0) + 0.1 * r());
      const mask = Float32Array.from({ length: b * t }, () => (r() < 0.8 ? 1 : 0));
      const ref = grpoAdvantageRef(s, g, normStd);
      const out = grpoAdvantage(f32(s).to(GPU), { groupSize: g, normStd, mask: Tensor.from(mask, [b, t]).to(GPU) });
      const a = out.advantages.toArray(), ta = out.tokenAdvantages!.toArray();
      // the GPU may reduce a group in fp32: relative g·u on mean and std, times |A| + |s − mean|/std
      for (let i = 0; i < b; i++) expect(Math.abs(a[i]! - ref[i]!)).toBeLessThanOrEqual(8 * g * U * (1 + Math.abs(ref[i]!)) + 1e-6 * Math.abs(ref[i]!));
      for (let k = 0; k < b * t; k++) expect(ta[k] === (mask[k] ? a[Math.floor(k / t)] : 0)).toBe(true);
    }
  });

  it("ppoClipLoss: loss / dlogp within 2x the CPU budget, identical flags away from the kinks (dual clip on)", () => {
    const n = 100_000, r = rng(9);
    const logp = Float32Array.from({ length: n }, () => -5 * r());
    const old = Float32Array.from(logp, (x) => x + 0.8 * (2 * r() - 1));
    const adv = Float32Array.from({ length: n }, () => 4 * r() - 2);
    const opts = { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };
    const out = ppoClipLoss(f32(logp).to(GPU), f32(old).to(GPU), f32(adv).to(GPU), opts);
    const loss = out.loss.toArray(), dl = out.dlogp.toArray(), cl = out.clipped.toArray(), dc = out.dualClipped.toArray();
    for (let i = 0; i < n; i++) {
      const ref = ppoClipTokenRef(logp[i]!, old[i]!, adv[i]!, opts.clipLow, opts.clipHigh, opts.dualClip);
      const d = logp[i]! - old[i]!, ratio = Math.exp(d);
      const tol = 2 * (4 * U * Math.abs(adv[i]!) * ratio * (Math.abs(d) + 3) + 8 * U * Math.abs(adv[i]!) * 4);
      expect(Math.abs(loss[i]! - ref.loss)).toBeLessThanOrEqual(tol);
      if ([0.8, 1.28, 3].some((k) => Math.abs(ratio - k) <= 1e-5 * k)) continue;
      expect(Math.abs(dl[i]! - ref.dlogp)).toBeLessThanOrEqual(tol);
      expect(cl[i]).toBe(Number(ref.clipped));
      expect(dc[i]).toBe(Number(ref.dualClipped));
    }
  });

  it("klPenalty, all four types, including the low_var_kl clamp", () => {
    const n = 50_000, r = rng(10);
    const logp = Float32Array.from({ length: n }, () => -8 * r());
    const ref = Float32Array.from(logp, (x) => x + 15 * (2 * r() - 1));
    for (const type of ["kl", "abs", "mse", "low_var_kl"] as KlType[]) {
      const cpu = klPenalty(f32(logp), f32(ref), type), gpu = klPenalty(f32(logp).to(GPU), f32(ref).to(GPU), type);
      const kc = cpu.kl.toArray(), kg = gpu.kl.toArray(), gc = cpu.dlogp.toArray(), gg = gpu.dlogp.toArray();
      for (let i = 0; i < n; i++) {
        const d = logp[i]! - ref[i]!, e = Math.exp(-d), want = klTokenRef(logp[i]!, ref[i]!, type);
        // 2x the CPU test's low_var_kl budget (the loosest of the four), expf <= 2 ulp on the GPU
        const tk = 2 * (8 * U * (e + Math.abs(d) + 1) + 2 * U * Math.abs(d) * Math.abs(1 - e) + 8 * U * d * d);
        const tg = 2 * (8 * U * e * (1 + Math.abs(d)) + 2 * U * (Math.abs(1 - e) + Math.abs(d)));
        expect(Math.abs(kg[i]! - want.kl)).toBeLessThanOrEqual(tk);
        expect(Math.abs(kg[i]! - kc[i]!)).toBeLessThanOrEqual(2 * tk);
        if (type === "low_var_kl" && Math.abs(e + d - 1 - 10) < 1e-4) continue;
        expect(Math.abs(gg[i]! - want.dlogp)).toBeLessThanOrEqual(tg);
        expect(Math.abs(gg[i]! - gc[i]!)).toBeLessThanOrEqual(2 * tg);
      }
    }
  });

  it("aggregationWeights, three modes (incl. empty rows and an empty mask)", () => {
    const b = 257, t = 1000, r = rng(11);
    const m = Float32Array.from({ length: b * t }, () => (r() < 0.6 ? 1 : 0));
    for (let i = 0; i < b; i += 7) m.fill(0, i * t, (i + 1) * t);
    for (const mode of ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"] as AggMode[]) {
      const w = aggregationWeights(Tensor.from(m, [b, t]).to(GPU), mode).toArray();
      const ref = aggregationWeightsRef(m, b, t, mode);
      for (let k = 0; k < b * t; k++) expect(Math.abs(w[k]! - ref[k]!)).toBeLessThanOrEqual(4 * U * ref[k]!);
      const z = aggregationWeights(Tensor.zeros([3, 4]).to(GPU), mode).toArray();
      expect(Array.from(z).every((y) => y === 0)).toBe(true);
    }
  });

  it("gae with and without whitening vs the float64 reference and the CPU kernel", () => {
    const b = 64, t = 512, r = rng(12);
    const rew = Float32Array.from({ length: b * t }, () => (r() < 0.05 ? 2 * r() - 1 : 0));
    const val = Float32Array.from({ length: b * t }, () => 2 * r() - 1);
    const mask = new Float32Array(b * t);
    for (let i = 0; i < b; i++) mask.fill(1, i * t, i * t + Math.floor(r() * t));
    for (const whiten of [false, true]) {
      const args = (dev: Device) => [Tensor.from(rew, [b, t]).to(dev), Tensor.from(val, [b, t]).to(dev), Tensor.from(mask, [b, t]).to(dev)] as const;
      const gpu = gae(...args(GPU), { gamma: 0.99, lambda: 0.95, whiten });
      const ref = gaeRef(rew, val, mask, b, t, 0.99, 0.95, whiten);
      const a = gpu.advantages.toArray(), ret = gpu.returns.toArray();
      // 2x the CPU recurrence budget 4u·S_row (S = Σ|r| + 2|V| + |A| <= ~3t here), over the whitening σ (>= 0.05 here)
      const tolA = 2 * 4 * U * 3 * t * (whiten ? 20 : 1) + 1e-6;
      for (let k = 0; k < b * t; k++) {
        expect(Math.abs(a[k]! - ref.advantages[k]!)).toBeLessThanOrEqual(tolA * (1 + Math.abs(ref.advantages[k]!)));
        expect(Math.abs(ret[k]! - ref.returns[k]!)).toBeLessThanOrEqual(2 * 4 * U * 3 * t + 1e-6);
        if (mask[k] === 0) expect(a[k] === 0 && ret[k] === 0).toBe(true);
      }
    }
  });

  it("valueLoss [b, t] (token-mean weights, padding): dvalues equal the CPU kernel's, stats to the fp64 summation order, within 2x the CPU budget of valueLossRef", () => {
    const b = 64, t = 700, r = rng(13), clip = 0.2;
    const mask = new Float32Array(b * t);
    for (let i = 0; i < b; i++) mask.fill(1, i * t, i * t + Math.floor(r() * t));
    const old = Float32Array.from({ length: b * t }, () => 2 * r() - 1);
    const v = Float32Array.from(old, (o, k) => (k % 97 === 5 ? o + Math.fround(clip) : o + 0.5 * (2 * r() - 1)));
    const ret = Float32Array.from(old, (o) => o + 2 * r() - 1);
    const w = aggregationWeights(Tensor.from(mask, [b, t]));
    const args = (dev: Device) => [v, old, ret].map((x) => Tensor.from(x, [b, t]).to(dev)) as [Tensor, Tensor, Tensor];
    const cpu = valueLoss(...args("cpu"), w, { clip });
    const gpu = valueLoss(...args(GPU), w.to(GPU), { clip });
    // the per-token fp32 arithmetic is the same sequence on both devices (value_term, no
    // FMA-contractible step), so gradients and branch decisions agree exactly; the stats
    // differ only by the fp64 summation order
    const dc = cpu.dvalues!.toArray(), dg = gpu.dvalues!.toArray();
    for (let k = 0; k < b * t; k++) expect(dg[k] === dc[k]).toBe(true);
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThanOrEqual(1e-12 * cpu.loss);
    expect(Math.abs(gpu.clipFrac - cpu.clipFrac)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(gpu.weightSum - cpu.weightSum)).toBeLessThanOrEqual(1e-12);
    const ref = valueLossRef(v, old, ret, w.toArray(), Math.fround(clip));
    // 2x the CPU test's per-token budget 2u(1.5(a + c) + |e|(|old| + c)), Σw = 1, |v − R|, |vc − R| <= 3.2, |old| <= 1
    expect(Math.abs(gpu.loss - ref.loss)).toBeLessThanOrEqual(2 * 2 * U * (1.5 * 2 * 3.2 ** 2 + 3.2 * 1.2));
    const fwd = valueLoss(...args(GPU), w.to(GPU), { clip, backward: false });
    expect([fwd.loss, fwd.clipFrac, fwd.weightSum]).toEqual([gpu.loss, gpu.clipFrac, gpu.weightSum]);
  });

  for (const dtype of ["f32", "bf16"] as HalfOrF32[]) {
    for (const [n, v] of [[257, 4096], [3, 151936]] as [number, number][]) {
      it(`policyLoss ${dtype}, n = ${n}, v = ${v}: stats, logp, entropy, dlogits vs policyLossRef on both devices; in place = out of place`, () => {
        const opts = { temperature: 0.6, pgCoef: 1, klCoef: 0.001, klType: "low_var_kl" as KlType, entropyCoeff: 0.001, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };
        const c = makeCase(n + v, n, v, 10, dtype, opts);
        checkAgainstRef(c, run(c), dtype);
        const g = run(c, {}, c.logits, GPU);
        const onHost = { stats: g.stats, logp: g.logp.to("cpu"), entropy: g.entropy.to("cpu"), dlogits: g.dlogits!.to("cpu") };
        checkAgainstRef(c, onHost, dtype, GPU_SCALE, GPU_ABS);
        const inPlaceLogits = c.logits.to(GPU);
        const ip = run(c, { inPlace: true }, inPlaceLogits, GPU);
        expect(ip.dlogits).toBe(inPlaceLogits);
        expect(Array.from(inPlaceLogits.toArray())).toEqual(Array.from(onHost.dlogits.toArray()));
        const fwdOnly = run(c, { backward: false }, c.logits, GPU);
        expect(fwdOnly.dlogits).toBeUndefined();
        expect(fwdOnly.stats).toEqual(g.stats);
      });
    }
  }

  it("policyLoss forward-only on the largest shape (n = 257, v = 151936, bf16): stats and logp vs policyLossRef", () => {
    const opts = { temperature: 0.6, pgCoef: 1, klCoef: 0.001, klType: "low_var_kl" as KlType, entropyCoeff: 0.001, clipLow: 0.2, clipHigh: 0.28, dualClip: 0 };
    const c = makeCase(77, 257, 151936, 10, "bf16", opts);
    const g = run(c, { backward: false }, c.logits, GPU);
    checkAgainstRef(c, { stats: g.stats, logp: g.logp.to("cpu"), entropy: g.entropy.to("cpu") }, "bf16", GPU_SCALE, GPU_ABS);
  });
});
