// The GRPO update against a TypeScript reference computed from the same rollouts: the per-token
// objective is composed with @rlvr/native/reference's policyLossRef on the engine's full logits
// (logitsForTesting), and the parameter gradient is checked by central finite differences of
// that reference along random directions.
import { describe, expect, it } from "vitest";

import { Engine } from "@rlvr/engine";
import { loadModelDir, type ModelConfig, type TensorData } from "@rlvr/model";
import { aggregationWeightsRef, grpoAdvantageRef, policyLossRef, type AggModeRef, type KlTypeRef } from "@rlvr/native/reference";
import { engineStepModel, generate } from "@rlvr/sampler";

import { randomFloats } from "../../model/src/testing/fixtures.js";
import {
  broadcastRows, grpoAdvantages, microBatchCount, microBatches, packSequences, responseMask, responseWidth, scoreRollouts, toResponseLayout, updatePolicy,
  type Rollout, type UpdateOptions,
} from "../src/index.js";
import { parityReward, tinyModelDir } from "./helpers.js";

interface Setup {
  config: ModelConfig;
  actorWeights: Map<string, TensorData>;
  refWeights: Map<string, TensorData>;
  rollouts: Rollout[];
  scores: Float32Array;
}

async function setup(): Promise<Setup> {
  const m = await loadModelDir(await tinyModelDir(5));
  const refWeights = m.weights!;
  // the actor is the reference moved a little, so the KL term is not zero
  const actorWeights = new Map([...refWeights].map(([n, t], k) => {
    const noise = randomFloats(t.data.length, 900 + k, 0.05);
    return [n, { shape: t.shape, data: t.data.map((x, i) => x + noise[i]!) }];
  }));
  const actor = Engine.fromWeights(m.config, actorWeights);
  const prompts = [Int32Array.from(m.tokenizer.encode("1+1 =")), Int32Array.from(m.tokenizer.encode("12*3 ="))];
  const samples = await generate(engineStepModel(actor, { maxNewTokens: 7 }), prompts, { n: 4, temperature: 0.6, maxNewTokens: 7, seed: 21, decode: (t) => m.tokenizer.decode(Array.from(t)) });
  const rollouts: Rollout[] = samples.map((s) => ({
    promptIds: prompts[s.promptIndex]!, responseIds: s.tokens, oldLogp: s.logprobs, text: s.text!, finishReason: s.finishReason,
    group: s.promptIndex, exampleIndex: s.promptIndex, gold: "2",
  }));
  const scores = Float32Array.from(await parityReward(rollouts.map((r) => ({ response: r.text }))), (r) => r.score);
  return { config: m.config, actorWeights, refWeights, rollouts, scores };
}

interface Case {
  name: string;
  normStd: boolean;
  lossAgg: AggModeRef;
  klType: KlTypeRef;
  pgCoef: number;
  klCoef: number;
  entropyCoeff: number;
}

const CASES: Case[] = [
  { name: "paper recipe (token-mean, low_var_kl 0.001, entropy 0.001)", normStd: true, lossAgg: "token-mean", klType: "low_var_kl", pgCoef: 1, klCoef: 0.001, entropyCoeff: 0.001 },
  { name: "Dr. GRPO, seq-mean-token-mean, mse KL, strong terms", normStd: false, lossAgg: "seq-mean-token-mean", klType: "mse", pgCoef: 1, klCoef: 0.5, entropyCoeff: 0.05 },
  { name: "entropy only (no policy loss, no KL)", normStd: true, lossAgg: "token-mean", klType: "low_var_kl", pgCoef: 0, klCoef: 0, entropyCoeff: 0.01 },
];

describe("GRPO step vs a TypeScript reference (same rollouts)", () => {
  it.each(CASES)("$name: loss terms and gradients", async (cs) => {
    const s = await setup();
    const actor = Engine.fromWeights(s.config, s.actorWeights);
    const ref = Engine.fromWeights(s.config, s.refWeights);
    const tau = 0.6;
    const B = s.rollouts.length, W = responseWidth(s.rollouts);
    const mask = responseMask(s.rollouts, W);
    const groups = Int32Array.from(s.rollouts, (r) => r.group);
    expect(Array.from(groups)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]); // one group per prompt row, n = 4
    const adv = grpoAdvantages(s.scores, groups, { normStd: cs.normStd, eps: 1e-6 });
    const advRef = grpoAdvantageRef(s.scores, 4, cs.normStd, 1e-6);
    adv.forEach((a, i) => expect(a).toBeCloseTo(advRef[i]!, 5));
    expect(adv.some((a) => a !== 0)).toBe(true);
    const advantages = broadcastRows(adv, mask, W);
    const oldLogp = toResponseLayout(s.rollouts.map((r) => r.oldLogp), W);
    const refLogp = (await scoreRollouts(ref, s.rollouts, W, tau, 3)).logp;
    const opts: UpdateOptions = {
      temperature: tau, pgCoef: cs.pgCoef, klCoef: cs.klCoef, klType: cs.klType, entropyCoeff: cs.entropyCoeff,
      clipLow: 0.2, clipHigh: 0.2, dualClip: 0, lossAgg: cs.lossAgg, miniBatch: B, microBatch: 3, ppoEpochs: 1,
      optimizer: { lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }, step: false,
    };
    const stats = await updatePolicy(actor, { rollouts: s.rollouts, width: W, mask, advantages, oldLogp, refLogp }, opts);
    expect(stats.forwardBackwardCalls).toBe(3); // 8 responses in micro-batches of 3, 3, 2

    // prompt-sharing scoring (scoreRollouts) is the sampler's log-probs bit for bit, at every micro-batch size
    for (const micro of [1, 3, 8]) expect((await scoreRollouts(actor, s.rollouts, W, tau, micro)).logp).toEqual(oldLogp);
    // ... and at every token budget (1: one response per call; the widest response fits 2 rows)
    const widest = Math.max(...s.rollouts.map((r) => r.promptIds.length + r.responseIds.length));
    for (const maxTokens of [1, 2 * widest, 1e9]) {
      expect((await scoreRollouts(actor, s.rollouts, W, tau, { maxRows: 8, maxTokens })).logp).toEqual(oldLogp);
    }
    // repeated rollouts are scored once and get their sequence's row (same bits as scoring each)
    const repeated = [...s.rollouts, s.rollouts[2]!, s.rollouts[0]!, s.rollouts[2]!];
    expect((await scoreRollouts(actor, repeated, W, tau, 3)).logp).toEqual(toResponseLayout(repeated.map((r) => r.oldLogp), W));
    // the sampler's log-probs are the engine's training log-probs (no recompute pass needed)
    let maxDiff = 0;
    for (let k = 0; k < B * W; k++) if (mask[k]) maxDiff = Math.max(maxDiff, Math.abs(stats.tokenLogp[k]! - oldLogp[k]!));
    expect(maxDiff).toBe(0);
    expect(stats.ppoKl).toBe(0);
    expect(stats.clipFrac).toBe(0);

    // the reference objective over the whole mini-batch in one piece
    const w64 = aggregationWeightsRef(mask, B, W, cs.lossAgg);
    const reference = async (engine: Engine) => {
      const p = packSequences(s.rollouts);
      const logits = await engine.logitsForTesting(p);
      const V = s.config.vocabSize;
      const rows: number[] = [], tw: number[] = [], to: number[] = [], tr: number[] = [], ta: number[] = [];
      s.rollouts.forEach((r, i) => {
        for (let j = 0; j < r.responseIds.length; j++) {
          rows.push(p.start[i]! + j);
          tw.push(w64[i * W + j]!);
          to.push(oldLogp[i * W + j]!);
          tr.push(refLogp[i * W + j]!);
          ta.push(advantages[i * W + j]!);
        }
      });
      const sel = new Float64Array(rows.length * V);
      rows.forEach((row, k) => sel.set(logits.subarray(row * V, (row + 1) * V), k * V));
      return policyLossRef({
        logits: sel, n: rows.length, v: V, targets: rows.map((row) => p.targets[row]!), weights: tw, oldLogp: to, refLogp: tr, advantages: ta,
        temperature: tau, pgCoef: cs.pgCoef, klCoef: cs.klCoef, klType: cs.klType, entropyCoeff: cs.entropyCoeff,
      }).stats;
    };
    const r0 = await reference(actor);
    expect(stats.total).toBeCloseTo(r0.total, 5);
    expect(stats.pgLoss).toBeCloseTo(r0.pgLoss, 5);
    expect(stats.klLoss).toBeCloseTo(r0.klLoss, 6);
    expect(stats.entropyLoss).toBeCloseTo(r0.entropy, 4);

    // gradients: <grad, d> vs central differences of the reference objective along d
    const names = actor.parameterNames();
    const grads = new Map(names.map((n) => [n, actor.gradient(n)]));
    const theta = new Map(names.map((n) => [n, actor.parameter(n)]));
    for (const seed of [1, 2]) {
      const dir = new Map(names.map((n, k) => [n, randomFloats(theta.get(n)!.length, 7000 + 100 * seed + k, 1)]));
      let analytic = 0;
      for (const n of names) {
        const g = grads.get(n)!, d = dir.get(n)!;
        for (let i = 0; i < g.length; i++) analytic += g[i]! * d[i]!;
      }
      const h = 2e-3;
      const at = async (sign: number) => {
        const e = Engine.fromWeights(s.config, new Map(names.map((n) => {
          const t = theta.get(n)!, d = dir.get(n)!;
          return [n, { shape: s.actorWeights.get(n)!.shape, data: t.map((x, i) => x + sign * h * d[i]!) }];
        })));
        return (await reference(e)).total;
      };
      const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
      if (process.env.RLVR_DEBUG) console.log(cs.name, { analytic, numeric, total: r0.total });
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 * Math.abs(analytic) + 1e-5);
    }

    // the micro-batch size does not change the mini-batch gradient (beyond fp32 summation order)
    const whole = Engine.fromWeights(s.config, s.actorWeights);
    await updatePolicy(whole, { rollouts: s.rollouts, width: W, mask, advantages, oldLogp, refLogp }, { ...opts, microBatch: B });
    // ... nor does a token budget (actor.maxTokensPerMicroBatch): room for two of the longest
    // sequences a call, so calls hold 2 or more responses and there are several of them
    const longest = Math.max(...s.rollouts.map((r) => r.promptIds.length + r.responseIds.length));
    const budget = { ...opts, microBatch: B, maxTokensPerMicroBatch: 2 * longest };
    const byTokens = Engine.fromWeights(s.config, s.actorWeights);
    const st = await updatePolicy(byTokens, { rollouts: s.rollouts, width: W, mask, advantages, oldLogp, refLogp }, budget);
    expect(st.forwardBackwardCalls).toBe(microBatchCount(s.rollouts, budget));
    expect(st.forwardBackwardCalls).toBeGreaterThanOrEqual(Math.ceil(B / 2));
    for (const [a, b] of microBatches(s.rollouts, 0, B, budget)) {
      const widest = Math.max(...s.rollouts.slice(a, b).map((r) => r.promptIds.length + r.responseIds.length));
      expect(b - a === 1 || (b - a) * widest <= budget.maxTokensPerMicroBatch).toBe(true);
    }
    for (const other of [whole, byTokens]) {
      for (const n of names) {
        const a = grads.get(n)!, b = other.gradient(n);
        let err = 0, scale = 1e-6;
        for (let i = 0; i < a.length; i++) {
          err = Math.max(err, Math.abs(a[i]! - b[i]!));
          scale = Math.max(scale, Math.abs(b[i]!));
        }
        expect(err / scale).toBeLessThan(1e-4);
      }
    }
  });

  it("packing several responses per row: token log-probs bit for bit, gradients up to summation order", async () => {
    const s = await setup();
    // some full responses, some of one token: two short sequences fit in a row of the longest
    const keep = (i: number, n: number) => (i % 3 === 0 ? n : 1);
    const rollouts = s.rollouts.map((r, i) => ({ ...r, responseIds: r.responseIds.subarray(0, keep(i, r.responseIds.length)), oldLogp: r.oldLogp.subarray(0, keep(i, r.oldLogp.length)) }));
    expect(packSequences(rollouts, { pack: true }).batch).toBeLessThan(rollouts.length);
    const W = responseWidth(rollouts), mask = responseMask(rollouts, W);
    const adv = grpoAdvantages(s.scores, Int32Array.from(rollouts, (r) => r.group), { normStd: true, eps: 1e-6 });
    const x = { rollouts, width: W, mask, advantages: broadcastRows(adv, mask, W), oldLogp: toResponseLayout(rollouts.map((r) => r.oldLogp), W) };
    const opts: UpdateOptions = {
      temperature: 0.6, pgCoef: 1, klCoef: 0, klType: "low_var_kl", entropyCoeff: 0.01, clipLow: 0.2, clipHigh: 0.2, dualClip: 0,
      lossAgg: "token-mean", miniBatch: rollouts.length, microBatch: 5, ppoEpochs: 1,
      optimizer: { lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }, step: false,
    };
    const a = Engine.fromWeights(s.config, s.actorWeights), b = Engine.fromWeights(s.config, s.actorWeights);
    const sa = await updatePolicy(a, x, opts), sb = await updatePolicy(b, x, { ...opts, pack: true });
    expect(sb.tokenLogp).toEqual(sa.tokenLogp);
    expect(sb.tokenEntropy).toEqual(sa.tokenEntropy);
    expect(sb.total).toBeCloseTo(sa.total, 6);
    for (const n of a.parameterNames()) {
      const ga = a.gradient(n), gb = b.gradient(n);
      let err = 0, scale = 1e-6;
      for (let i = 0; i < ga.length; i++) {
        err = Math.max(err, Math.abs(ga[i]! - gb[i]!));
        scale = Math.max(scale, Math.abs(ga[i]!));
      }
      expect(err / scale, n).toBeLessThan(1e-5);
    }
  });
});
