/**
 * Packed sequences (segmentIds): several sequences share a row, each attending only to its own
 * earlier tokens with positions counted from its start. Forward values equal the unpacked
 * computation bit for bit (per-row GEMMs; attention sums the same real keys in the same order);
 * gradients equal it up to the order in which the weight-gradient GEMMs sum over rows
 * (bound 1e-5 of each tensor's max: a few fp32 roundings of sums of ~30 terms).
 */
import { describe, expect, it } from "vitest";

import { ValueError } from "@rlvr/native";

import { Engine } from "../src/index.js";
import { expectErr, maxAbs, randomWeights, rng, tinyConfig } from "./helpers.js";

const config = tinyConfig();
const weights = randomWeights(config, 11);
const r = rng(5);
const seqs = [7, 4, 5].map((n) => Array.from({ length: n }, () => 1 + Math.floor(r() * (config.vocabSize - 1))));

// unpacked: one sequence per row (right-padded to 7); packed: [seq0] and [seq1 | seq2] in rows of 9
function unpacked() {
  const T = 7, B = 3;
  const inputIds = new Int32Array(B * T), attentionMask = new Float32Array(B * T), targets = new Int32Array(B * T), w = new Float32Array(B * T);
  seqs.forEach((s, i) => {
    inputIds.set(s, i * T);
    attentionMask.fill(1, i * T, i * T + s.length);
    for (let t = 0; t + 1 < s.length; t++) { targets[i * T + t] = s[t + 1]!; w[i * T + t] = 1 / 13; }
  });
  return { batch: B, length: T, inputIds, attentionMask, targets, w, at: (i: number, t: number) => i * T + t };
}
function packed() {
  const T = 9, B = 2;
  const inputIds = new Int32Array(B * T), attentionMask = new Float32Array(B * T), targets = new Int32Array(B * T), w = new Float32Array(B * T);
  const segmentIds = new Int32Array(B * T);
  const place: [number, number][] = [[0, 0], [1, 0], [1, 4]]; // (row, offset) of each sequence
  seqs.forEach((s, i) => {
    const [row, off] = place[i]!;
    const o = row * T + off;
    inputIds.set(s, o);
    attentionMask.fill(1, o, o + s.length);
    segmentIds.fill(i, o, o + s.length);
    for (let t = 0; t + 1 < s.length; t++) { targets[o + t] = s[t + 1]!; w[o + t] = 1 / 13; }
  });
  segmentIds.fill(0, 7, 9); // row 0's padding continues its segment (non-decreasing)
  return { batch: B, length: T, inputIds, attentionMask, targets, segmentIds, w, at: (i: number, t: number) => place[i]![0] * T + place[i]![1] + t };
}

describe("packed sequences (segmentIds)", () => {
  const u = unpacked(), p = packed();

  it("score: every token's logp and entropy equal the unpacked ones bit for bit", async () => {
    const e = Engine.fromWeights(config, weights);
    const a = await e.score({ ...u, temperature: 0.8 }), b = await e.score({ ...p, temperature: 0.8 });
    seqs.forEach((s, i) => {
      for (let t = 0; t < s.length; t++) {
        expect(b.logp[p.at(i, t)]).toBe(a.logp[u.at(i, t)]);
        expect(b.entropy[p.at(i, t)]).toBe(a.entropy[u.at(i, t)]);
      }
    });
  });

  it("forwardBackward: same loss, same token log-probs, gradients up to summation order", async () => {
    const e1 = Engine.fromWeights(config, weights), e2 = Engine.fromWeights(config, weights);
    const z1 = new Float32Array(u.w.length), z2 = new Float32Array(p.w.length);
    const adv1 = u.w.map((x, k) => (x ? Math.sin(k) : 0)), adv2 = new Float32Array(p.w.length);
    seqs.forEach((s, i) => { for (let t = 0; t + 1 < s.length; t++) adv2[p.at(i, t)] = adv1[u.at(i, t)]!; });
    const opts = { temperature: 1, entropyCoeff: 0.01 };
    const a = await e1.forwardBackward({ ...u, weights: u.w, oldLogp: z1, advantages: adv1, ...opts });
    const b = await e2.forwardBackward({ ...p, weights: p.w, oldLogp: z2, advantages: adv2, ...opts });
    expect(b.total).toBeCloseTo(a.total, 6);
    seqs.forEach((s, i) => { for (let t = 0; t + 1 < s.length; t++) expect(b.tokenLogp[p.at(i, t)]).toBe(a.tokenLogp[u.at(i, t)]); });
    for (const name of e1.parameterNames()) {
      const g1 = e1.gradient(name), g2 = e2.gradient(name);
      const bound = 1e-5 * maxAbs(g1) + 1e-8;
      let err = 0;
      for (let k = 0; k < g1.length; k++) err = Math.max(err, Math.abs(g1[k]! - g2[k]!));
      expect(err, name).toBeLessThanOrEqual(bound);
    }
    expect(maxAbs(e1.gradient("model.norm.weight"))).toBeGreaterThan(0);
  });

  it("critic values equal the unpacked ones bit for bit", async () => {
    const head = new Map(weights);
    head.set("score.weight", { shape: [1, config.hiddenSize], data: Float32Array.from({ length: config.hiddenSize }, (_, k) => Math.cos(k)) });
    head.set("score.bias", { shape: [1], data: new Float32Array([0.5]) });
    const c = Engine.fromWeights(config, head, { valueHead: true });
    const a = await c.values(u), b = await c.values(p);
    seqs.forEach((s, i) => { for (let t = 0; t < s.length; t++) expect(b[p.at(i, t)]).toBe(a[u.at(i, t)]); });
  });

  it("errors: decreasing segment ids, packing in prefill", async () => {
    const e = Engine.fromWeights(config, weights);
    const bad = Int32Array.from(p.segmentIds);
    bad[5] = 3;
    await expectErr(() => e.score({ ...p, segmentIds: bad }), ValueError, "segmentIds");
    await expectErr(() => e.decode.prefill({ ...p, capacity: 12 }), ValueError, "segmentIds");
  });
});
