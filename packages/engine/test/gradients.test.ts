/**
 * Gradient checks on micro models, independent of the PyTorch fixtures:
 *  - central finite differences of the engine's own fp32 loss, for a few entries of
 *    every parameter tensor (embedding, norms, q/k/v weights and biases, o, gate, up,
 *    down, final norm, untied LM head), with a smooth objective (no clipping: the
 *    clip range is wide; KL "mse"; entropy bonus), so the loss is C^inf around the point.
 *    Step h = 3e-3: truncation error h^2/6 |f'''| stays below ~1e-4 here (h = 1e-2
 *    already showed 2% truncation error on an RMSNorm weight), and the fp32 rounding of
 *    the loss (~1e-7 relative, |L| ~ 1) over 2h is ~3e-5. Tolerance |fd - g| <= 2e-4 + 1e-2|g|.
 *  - gradient accumulation: two micro-batches (weights normalized over the whole batch)
 *    give the gradients of one batch, up to fp32 summation order (1e-5 of the tensor scale).
 */
import { describe, expect, it } from "vitest";

import { ValueError } from "@rlvr/native";

import { Engine } from "../src/index.js";
import { expectErr, gaussian, maxAbs, paddedBatch, randomWeights, rng, tinyConfig, tinyEngine } from "./helpers.js";

function lossInputs(vocab: number, seed: number) {
  const p = paddedBatch(vocab, 3, 7, seed);
  const r = rng(seed + 1);
  const n = p.batch * p.length;
  const weights = new Float32Array(n), advantages = new Float32Array(n), noise1 = new Float32Array(n), noise2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (p.attentionMask[i]) weights[i] = 0.05 + 0.1 * r();
    advantages[i] = gaussian(r);
    noise1[i] = 0.3 * gaussian(r);
    noise2[i] = 0.3 * gaussian(r);
  }
  return { p, weights, advantages, noise1, noise2 };
}

describe("central finite differences", () => {
  for (const [label, cfg] of [
    ["qwen2-style, untied", { vocab_size: 11, hidden_size: 8, intermediate_size: 12, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, tie_word_embeddings: false }],
    // K > the GEMM's K block (256) in down_proj (K = 270) and in the LM-head backward (K = vocab = 300)
    ["qwen2-style, tied, K-blocked GEMMs", { vocab_size: 300, hidden_size: 12, intermediate_size: 270, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4 }],
    ["llama-style, tied, llama3 rope", {
      architectures: ["LlamaForCausalLM"], model_type: "llama", use_sliding_window: undefined, vocab_size: 13, hidden_size: 8,
      intermediate_size: 10, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, tie_word_embeddings: true,
      rope_scaling: { rope_type: "llama3", factor: 4, low_freq_factor: 1, high_freq_factor: 2, original_max_position_embeddings: 8 },
    }],
  ] as const) {
    it(label, async () => {
      const e = tinyEngine(cfg as Record<string, unknown>, 3);
      const { p, weights, advantages, noise1, noise2 } = lossInputs(e.config.vocabSize, 9);
      const base = (await e.score({ ...p, temperature: 0.8 })).logp;
      const oldLogp = base.map((x, i) => (p.attentionMask[i] ? x + noise1[i]! : 0));
      const refLogp = base.map((x, i) => (p.attentionMask[i] ? x + noise2[i]! : 0));
      const opts = {
        ...p, weights, advantages, oldLogp, refLogp, temperature: 0.8, pgCoef: 1, klCoef: 0.5, klType: "mse" as const,
        entropyCoeff: 0.2, clipLow: 0.99, clipHigh: 1e6,
      };
      const loss = async () => {
        e.zeroGrad();
        return (await e.forwardBackward(opts)).total;
      };
      await loss();
      const grads = new Map(e.parameterNames().map((n) => [n, e.gradient(n)]));
      const r = rng(42);
      const h = 3e-3;
      let checked = 0;
      for (const name of e.parameterNames()) {
        const w = e.parameter(name);
        const g = grads.get(name)!;
        const idx = new Set([Math.floor(r() * w.length), Math.floor(r() * w.length), Math.floor(r() * w.length)]);
        // for the embedding, also an entry of a token that occurs in the batch
        if (name.includes("embed")) idx.add(p.inputIds[0]! * e.config.hiddenSize + 1);
        for (const i of idx) {
          const orig = w[i]!;
          w[i] = orig + h;
          e.setParameter(name, w);
          const lp = await loss();
          w[i] = orig - h;
          e.setParameter(name, w);
          const lm = await loss();
          w[i] = orig;
          e.setParameter(name, w);
          const fd = (lp - lm) / (2 * h);
          expect(Math.abs(fd - g[i]!), `${name}[${i}]: fd ${fd} vs grad ${g[i]}`).toBeLessThanOrEqual(2e-4 + 1e-2 * Math.abs(g[i]!));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(3 * 14);
    });
  }
});

describe("gradient accumulation", () => {
  it("two micro-batches == one batch", async () => {
    const e = tinyEngine({ tie_word_embeddings: false }, 5);
    const V = e.config.vocabSize;
    const p = paddedBatch(V, 4, 8, 21);
    const n = 32;
    const r = rng(3);
    const weights = new Float32Array(n), advantages = new Float32Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) if (p.attentionMask[i] && i % 8 >= 3) { weights[i] = 1; sum++; }
    for (let i = 0; i < n; i++) { weights[i]! /= sum; advantages[i] = gaussian(r); }
    const lp = (await e.score(p)).logp;
    const oldLogp = lp.map((x, i) => (p.attentionMask[i] ? x - 0.2 * gaussian(r) : 0));
    const refLogp = lp.map((x, i) => (p.attentionMask[i] ? x + 0.2 * gaussian(r) : 0));
    const common = { temperature: 0.9, klCoef: 0.05, entropyCoeff: 0.01 };
    const full = await e.forwardBackward({ ...p, ...common, weights, advantages, oldLogp, refLogp });
    const gFull = new Map(e.parameterNames().map((nm) => [nm, e.gradient(nm)]));
    e.zeroGrad();
    const half = async (k: number) => {
      const s = (a: Float32Array | Int32Array) => a.slice(k * 16, (k + 1) * 16);
      return await e.forwardBackward({
        batch: 2, length: 8, inputIds: s(p.inputIds) as Int32Array, attentionMask: s(p.attentionMask) as Float32Array,
        targets: s(p.targets) as Int32Array, weights: s(weights) as Float32Array, advantages: s(advantages) as Float32Array,
        oldLogp: s(oldLogp) as Float32Array, refLogp: s(refLogp) as Float32Array, ...common,
      });
    };
    const a = await half(0), b = await half(1);
    expect(a.total + b.total).toBeCloseTo(full.total, 6);
    expect(a.weightSum + b.weightSum).toBeCloseTo(full.weightSum, 6);
    for (const [nm, g] of gFull) {
      const acc = e.gradient(nm);
      let err = 0;
      for (let i = 0; i < g.length; i++) err = Math.max(err, Math.abs(acc[i]! - g[i]!));
      expect(maxAbs(g)).toBeGreaterThan(0);
      expect(err, nm).toBeLessThanOrEqual(1e-5 * maxAbs(g) + 1e-9);
    }
  });
});

describe("activation memory", () => {
  // activationBudgetBytes: the default (1 GiB) keeps these few kilobytes of activations; 0 keeps
  // none (per-layer recompute). The recompute is the same code, so the gradients are bitwise equal.
  for (const backend of ["cpu", "ops-cpu"] as const) {
    it(`${backend}: kept activations (default budget) and per-layer recompute (activationBudgetBytes 0) give bitwise equal gradients`, async () => {
      const grads = async (activationBudgetBytes: number | undefined) => {
        const c = tinyConfig({ tie_word_embeddings: false, num_hidden_layers: 3 });
        const e = Engine.fromWeights(c, randomWeights(c, 7), {
          backend,
          ...(activationBudgetBytes !== undefined ? { activationBudgetBytes } : {}),
        });
        expect(e.keptActivations()).toBe(false);  // no training pass yet
        const { p, weights, advantages, noise1 } = lossInputs(e.config.vocabSize, 4);
        const oldLogp = noise1.map((x, i) => (p.attentionMask[i] ? x - 2 : 0));
        const res = await e.forwardBackward({ ...p, weights, advantages, oldLogp, temperature: 0.9, entropyCoeff: 0.1 });
        return { total: res.total, kept: e.keptActivations(), g: e.parameterNames().map((nm) => e.gradient(nm)) };
      };
      const kept = await grads(undefined), recomputed = await grads(0);
      expect(kept.kept).toBe(true);
      expect(recomputed.kept).toBe(false);
      expect(recomputed.total).toBe(kept.total);
      kept.g.forEach((g, i) => {
        expect(maxAbs(g)).toBeGreaterThan(0);
        expect(new Uint32Array(recomputed.g[i]!.buffer)).toEqual(new Uint32Array(g.buffer));
      });
    });
  }

  it("a negative activationBudgetBytes is a ValueError naming it", async () => {
    const c = tinyConfig({});
    await expectErr(() => Engine.fromWeights(c, randomWeights(c, 1), { activationBudgetBytes: -1 }), ValueError, "activationBudgetBytes");
  });
});

describe("GEMM loop orders", () => {
  it("LM-head chunking (K-block-major vs task-major dlogits @ W) leaves the hidden-state gradients bitwise unchanged", async () => {
    // vocab 40000: one chunk of all rows makes dlogits [rows, 40000] > 1 MB (K-block-major GEMM);
    // 7-row chunks keep it small (task-major). dhidden rows do not depend on the chunking, so every
    // gradient except lm_head.weight's (summed over chunks) must match bit for bit.
    const run = async (chunk: number) => {
      const e = tinyEngine({ tie_word_embeddings: false, vocab_size: 40000, hidden_size: 16, head_dim: 4 }, 13);
      if (chunk > 0) e.setLmChunkRows(chunk);
      const { p, weights, advantages, noise1 } = lossInputs(e.config.vocabSize, 6);
      const oldLogp = noise1.map((x, i) => (p.attentionMask[i] ? x - 9 : 0));
      await e.forwardBackward({ ...p, weights, advantages, oldLogp, temperature: 1 });
      return new Map(e.parameterNames().map((nm) => [nm, e.gradient(nm)]));
    };
    const whole = await run(0), chunked = await run(7);
    let compared = 0;
    for (const [nm, g] of whole) {
      if (nm === "lm_head.weight") continue;
      expect(maxAbs(g), nm).toBeGreaterThan(0);
      const a = new Uint32Array(chunked.get(nm)!.buffer), b = new Uint32Array(g.buffer);
      let differing = 0;
      for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) differing++;
      expect(a.length, nm).toBe(b.length);
      expect(differing, `${nm}: entries that differ`).toBe(0);
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });
});
