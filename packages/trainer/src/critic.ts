// PPO's critic (spec sections 3-4): a value-head engine over the same body as the policy,
// its per-token values in the response layout, and its update on the clipped value loss.
// The value of response token j is read where its log-prob is read (the position before
// it), so values, returns and masks share the policy's [B, W] layout.
import type { Engine } from "@rlvr/engine";
import { Tensor, aggregationWeights } from "@rlvr/native";

import { budgetChunks, chunks, distinctSequences, expandRows, gather, microBatches, packSequences, scatter, type CallBudget, type DistinctSequences, type Rollout } from "./batch.js";

/**
 * Per-token values [B, W] of the rollouts' responses, in calls of up to `microBatch` sequences (and
 * its token budget); `distinct`: distinctSequences(rollouts), passed by a caller that has it.
 */
export async function criticValues(
  critic: Engine,
  rollouts: readonly Rollout[],
  width: number,
  microBatch: number | CallBudget,
  pack = false,
  distinct: DistinctSequences = distinctSequences(rollouts),
): Promise<Float32Array> {
  // identical sequences get identical values: each distinct one runs once
  const { unique, of } = distinct;
  if (unique.length < rollouts.length) return expandRows(await valuesOf(critic, unique, width, microBatch, pack), of, width);
  return valuesOf(critic, rollouts, width, microBatch, pack);
}

async function valuesOf(critic: Engine, rollouts: readonly Rollout[], width: number, microBatch: number | CallBudget, pack: boolean): Promise<Float32Array> {
  const out = new Float32Array(rollouts.length * width);
  for (const [a, b] of budgetChunks(rollouts, microBatch)) {
    const p = packSequences(rollouts.slice(a, b), { pack });
    const v = await critic.values({
      batch: p.batch, length: p.length, inputIds: p.inputIds, attentionMask: p.attentionMask, scoreMask: p.scoreMask,
      ...(p.segmentIds ? { segmentIds: p.segmentIds } : {}),
    });
    gather(p, v, out, width, a);
  }
  return out;
}

export interface CriticUpdateInputs {
  rollouts: readonly Rollout[];
  width: number;
  /** [B, W] response mask. */
  mask: Float32Array;
  /** [B, W] values at rollout time (the clip's centre). */
  oldValues: Float32Array;
  /** [B, W] GAE returns. */
  returns: Float32Array;
}

export interface CriticUpdateOptions {
  /** Value clip range c. */
  clip: number;
  /** Responses per optimizer step. */
  miniBatch: number;
  /** Responses per valueForwardBackward call. */
  microBatch: number;
  /** Token budget of one valueForwardBackward call (UpdateOptions.maxTokensPerMicroBatch). */
  maxTokensPerMicroBatch?: number;
  ppoEpochs: number;
  optimizer: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm: number };
  /** Several responses per engine row; default false. */
  pack?: boolean;
}

export interface CriticUpdateStats {
  /** Mean over the mini-batch updates of the value loss (masked token mean). */
  vfLoss: number;
  /** Mean over the updates of the share of tokens where the clipped term was the larger. */
  vfClipFrac: number;
  gradNorms: number[];
  skipped: number;
}

/**
 * Mini-batches × PPO epochs of the clipped value loss, each mini-batch's gradient accumulated
 * over micro-batches with token-mean weights computed over the whole mini-batch (verl's
 * masked_mean of vf_loss), then one AdamW step on the critic.
 */
export async function updateCritic(
  critic: Engine, x: CriticUpdateInputs, o: CriticUpdateOptions, onMicroBatch?: () => void,
): Promise<CriticUpdateStats> {
  const B = x.rollouts.length, W = x.width;
  if (B % o.miniBatch !== 0) throw new Error(`internal: ${B} responses do not split into critic mini-batches of ${o.miniBatch}`);
  let loss = 0, clip = 0, updates = 0, skipped = 0;
  const gradNorms: number[] = [];
  for (let epoch = 0; epoch < o.ppoEpochs; epoch++) {
    for (const [m0, m1] of chunks(B, o.miniBatch)) {
      const rows = m1 - m0;
      const weights = aggregationWeights(Tensor.from(Float32Array.from(x.mask.subarray(m0 * W, m1 * W)), [rows, W]), "token-mean").toArray() as Float32Array;
      let mbLoss = 0, mbClipW = 0, mbW = 0;
      for (const [u0, u1] of microBatches(x.rollouts, m0, m1, o)) {
        const p = packSequences(x.rollouts.slice(m0 + u0, m0 + u1), { pack: o.pack === true });
        const r = await critic.valueForwardBackward({
          batch: p.batch, length: p.length, inputIds: p.inputIds, attentionMask: p.attentionMask,
          ...(p.segmentIds ? { segmentIds: p.segmentIds } : {}),
          weights: scatter(p, weights, W, u0),
          oldValues: scatter(p, x.oldValues, W, m0 + u0),
          returns: scatter(p, x.returns, W, m0 + u0),
          clip: o.clip,
        });
        onMicroBatch?.();
        mbLoss += r.loss;
        mbClipW += r.clipFrac * r.weightSum;
        mbW += r.weightSum;
      }
      loss += mbLoss;
      clip += mbW > 0 ? mbClipW / mbW : 0;
      updates++;
      const s = await critic.optimizerStep(o.optimizer);
      gradNorms.push(s.gradNorm);
      if (s.skipped) skipped++;
    }
  }
  const n = Math.max(1, updates);
  return { vfLoss: loss / n, vfClipFrac: clip / n, gradNorms, skipped };
}
