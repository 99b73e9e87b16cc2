// The policy update (spec section 4): mini-batches × PPO epochs, each mini-batch's gradient
// accumulated over micro-batches by forwardBackward, then one AdamW step.
//
// Gradient accumulation: the aggregation weights are computed over the WHOLE mini-batch
// (aggregationWeights on its [rows, W] response mask) and then split across micro-batches, so
// the accumulated gradient is exactly the mini-batch's token-mean (or seq-mean) objective,
// whatever the micro-batch size. (verl instead token-means each micro-batch and scales it by
// micro/mini, which equals this only when every micro-batch has the same token count.)
import type { Engine } from "@rlvr/engine";
import type { KlType } from "@rlvr/native";

import { lossWeights, type LossAggMode } from "./aggregation.js";
import { budgetChunks, chunks, distinctSequences, expandRows, gather, microBatches, packPrefixed, packSequences, scatter, type CallBudget, type DistinctSequences, type Rollout } from "./batch.js";

export interface UpdateInputs {
  rollouts: readonly Rollout[];
  /** Response-layout width W. */
  width: number;
  /** [B, W] response mask. */
  mask: Float32Array;
  /** [B, W] token advantages (× mask). */
  advantages: Float32Array;
  /** [B, W] old log-probs at the training temperature. */
  oldLogp: Float32Array;
  /** [B, W] reference log-probs (needed when klCoef > 0). */
  refLogp?: Float32Array;
}

export interface UpdateOptions {
  temperature: number;
  pgCoef: number;
  klCoef: number;
  klType: KlType;
  /** The objective subtracts entropyCoeff·H. */
  entropyCoeff: number;
  clipLow: number;
  clipHigh: number;
  dualClip: number;
  lossAgg: LossAggMode;
  /** The constant divisor of seq-mean-token-sum-norm (Dr. GRPO): the response budget (data.maxResponseLength). Default: the batch width. */
  aggHorizon?: number;
  /** Responses per optimizer step. */
  miniBatch: number;
  /** Responses per forwardBackward call. */
  microBatch: number;
  /**
   * Token budget of one forwardBackward call: responses x the longest prompt + response among
   * them (verl's ppo_max_token_len_per_gpu); a single longer response still runs. Absent: no bound.
   */
  maxTokensPerMicroBatch?: number;
  ppoEpochs: number;
  optimizer: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm: number };
  /** false: accumulate gradients only (tests); default true. */
  step?: boolean;
  /** Several responses per engine row (packSequences' `pack`); default false. */
  pack?: boolean;
}

export interface UpdateStats {
  /** Means over the mini-batch updates of the aggregated terms. */
  pgLoss: number;
  klLoss: number;
  entropyLoss: number;
  total: number;
  clipFrac: number;
  dualClipFrac: number;
  ppoKl: number;
  gradNorms: number[];
  skipped: number;
  /** Current-policy log-probs / entropies [B, W] seen by the first PPO epoch. */
  tokenLogp: Float32Array;
  tokenEntropy: Float32Array;
  forwardBackwardCalls: number;
}

/**
 * Where updatePolicySteps pauses: after each forwardBackward call ("micro": no optimizer step has
 * been taken in this update yet when `stepped` is false) and after each optimizer step ("step").
 */
export interface UpdatePause {
  kind: "micro" | "step";
  /** Optimizer steps taken so far in this update. */
  stepped: number;
}

/** The policy update (see updatePolicySteps); runs it to the end. */
export async function updatePolicy(engine: Engine, x: UpdateInputs, o: UpdateOptions): Promise<UpdateStats> {
  const g = updatePolicySteps(engine, x, o);
  for (;;) {
    const r = await g.next();
    if (r.done) return r.value;
  }
}


/**
 * The policy update as an async generator that pauses between engine calls, so a driver can stop
 * there before the first optimizer step changes the weights (a signal noticed during a call), or
 * check the weights after each optimizer step. Same arithmetic as updatePolicy.
 */
export async function* updatePolicySteps(engine: Engine, x: UpdateInputs, o: UpdateOptions): AsyncGenerator<UpdatePause, UpdateStats, void> {
  const B = x.rollouts.length, W = x.width;
  if (B % o.miniBatch !== 0) throw new Error(`internal: ${B} responses do not split into mini-batches of ${o.miniBatch}`);
  const tokenLogp = new Float32Array(B * W), tokenEntropy = new Float32Array(B * W);
  const acc = { pg: 0, kl: 0, ent: 0, total: 0, clip: 0, dual: 0, ppoKl: 0, updates: 0 };
  const gradNorms: number[] = [];
  let skipped = 0, calls = 0, optimizerSteps = 0;
  for (let epoch = 0; epoch < o.ppoEpochs; epoch++) {
    for (const [m0, m1] of chunks(B, o.miniBatch)) {
      const rows = m1 - m0;
      const maskMb = x.mask.subarray(m0 * W, m1 * W);
      const weights = lossWeights(maskMb, rows, W, o.lossAgg, o.aggHorizon ?? W);
      const mb = { pg: 0, kl: 0, ent: 0, total: 0, clipW: 0, dualW: 0, ppoKlW: 0, wsum: 0 };
      for (const [u0, u1] of microBatches(x.rollouts, m0, m1, o)) {
        const p = packSequences(x.rollouts.slice(m0 + u0, m0 + u1), { pack: o.pack === true });
        // weights are indexed relative to the mini-batch; the rest relative to the whole batch
        const w = scatter(p, weights, W, u0);
        const r = await engine.forwardBackward({
          batch: p.batch, length: p.length, inputIds: p.inputIds, attentionMask: p.attentionMask, targets: p.targets,
          ...(p.segmentIds ? { segmentIds: p.segmentIds } : {}),
          weights: w,
          oldLogp: scatter(p, x.oldLogp, W, m0 + u0),
          advantages: scatter(p, x.advantages, W, m0 + u0),
          ...(x.refLogp && o.klCoef !== 0 ? { refLogp: scatter(p, x.refLogp, W, m0 + u0) } : {}),
          temperature: o.temperature, pgCoef: o.pgCoef, klCoef: o.klCoef, klType: o.klType, entropyCoeff: o.entropyCoeff,
          clipLow: o.clipLow, clipHigh: o.clipHigh, dualClip: o.dualClip,
        });
        calls++;
        mb.pg += r.pgLoss;
        mb.kl += r.klLoss;
        mb.ent += r.entropy;
        mb.total += r.total;
        // clipFrac / dualClipFrac / ppoKl are normalized by each call's weight sum
        mb.clipW += r.clipFrac * r.weightSum;
        mb.dualW += r.dualClipFrac * r.weightSum;
        mb.ppoKlW += r.ppoKl * r.weightSum;
        mb.wsum += r.weightSum;
        if (epoch === 0) {
          gather(p, r.tokenLogp, tokenLogp, W, m0 + u0);
          gather(p, r.tokenEntropy, tokenEntropy, W, m0 + u0);
        }
        yield { kind: "micro", stepped: optimizerSteps };
      }
      const norm = mb.wsum > 0 ? mb.wsum : 1;
      acc.pg += mb.pg;
      acc.kl += mb.kl;
      acc.ent += mb.ent;
      acc.total += mb.total;
      acc.clip += mb.clipW / norm;
      acc.dual += mb.dualW / norm;
      acc.ppoKl += mb.ppoKlW / norm;
      acc.updates++;
      if (o.step !== false) {
        const s = await engine.optimizerStep(o.optimizer);
        gradNorms.push(s.gradNorm);
        if (s.skipped) skipped++;
        optimizerSteps++;
        yield { kind: "step", stepped: optimizerSteps };
      } else {
        gradNorms.push(engine.gradNorm());
      }
    }
  }
  const n = Math.max(1, acc.updates);
  return {
    pgLoss: acc.pg / n, klLoss: acc.kl / n, entropyLoss: acc.ent / n, total: acc.total / n,
    clipFrac: acc.clip / n, dualClipFrac: acc.dual / n, ppoKl: acc.ppoKl / n,
    gradNorms, skipped, tokenLogp, tokenEntropy, forwardBackwardCalls: calls,
  };
}

/**
 * Per-token log-probs (and entropies) of the rollouts' responses under `engine` at
 * `temperature`, in the response layout [B, W]; scored in calls of up to `microBatch` sequences
 * (and its token budget), each distinct prompt of a call run once (Engine.scorePrefixed: GRPO's
 * n samples share it), and each distinct sequence scored once (identical rollouts get identical
 * rows; `distinct`: distinctSequences(rollouts), passed by a caller that has it): on backend "cpu"
 * bit for bit what scoring each whole sequence gives.
 */
export async function scoreRollouts(
  engine: Engine,
  rollouts: readonly Rollout[],
  width: number,
  temperature: number,
  microBatch: number | CallBudget,
  distinct: DistinctSequences = distinctSequences(rollouts),
): Promise<{ logp: Float32Array; entropy: Float32Array }> {
  const { unique, of } = distinct;
  if (unique.length === rollouts.length) return scoreEach(engine, rollouts, width, temperature, microBatch);
  const s = await scoreEach(engine, unique, width, temperature, microBatch);
  return { logp: expandRows(s.logp, of, width), entropy: expandRows(s.entropy, of, width) };
}

async function scoreEach(
  engine: Engine,
  rollouts: readonly Rollout[],
  width: number,
  temperature: number,
  microBatch: number | CallBudget,
): Promise<{ logp: Float32Array; entropy: Float32Array }> {
  const B = rollouts.length;
  const logp = new Float32Array(B * width), entropy = new Float32Array(B * width);
  for (const [a, b] of budgetChunks(rollouts, microBatch)) {
    const part = rollouts.slice(a, b);
    const pre = packPrefixed(part);
    const p = pre ? pre.ext : packSequences(part);
    const x = {
      batch: p.batch, length: p.length, inputIds: p.inputIds, attentionMask: p.attentionMask, targets: p.targets,
      scoreMask: p.scoreMask, temperature,
    };
    const s = await (pre ? engine.scorePrefixed({ ...x, prefix: pre.prefix, group: pre.group }) : engine.score(x));
    gather(p, s.logp, logp, width, a);
    gather(p, s.entropy, entropy, width, a);
  }
  return { logp, entropy };
}
