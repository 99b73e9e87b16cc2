// The device memory plan of a run on "cuda": one budget (model.deviceMemoryFraction of the
// device's free memory at the start) covers the engines' resident state (actor weights,
// gradients, AdamW moments and bf16 copy; the reference's weights; the critic's state) and, one
// phase at a time, the rollout's KV cache or the update's activations. The phases do not overlap:
// the rollout frees its KV cache when it ends (decode.reset) and the engines free their
// workspaces before the next rollout (Engine.releaseWorkspace), so what is left after the
// resident state is available to each phase in turn. The activations' share becomes the engines'
// activation budget (past it, layers are recomputed: same gradients, more time).
import { parameterCount } from "@rlvr/engine";
import type { ModelConfig } from "@rlvr/model";

import { ConfigError, effectiveLoss, type TrainConfig } from "./config.js";

export interface MemoryPart {
  name: string;
  bytes: number;
}

export interface MemoryPlan {
  /** model.deviceMemoryFraction x the device's free bytes. */
  budget: number;
  /** Held for the whole run. */
  resident: MemoryPart[];
  residentBytes: number;
  /** The rollout's (and evaluation's) KV cache and decode logits, freed when it ends. */
  kvCache: number;
  /** Its sequences decoded at once, and the longest prompt + response each holds. */
  kvSlots: number;
  kvTokens: number;
  /** Tokens of the largest training call (largestMicroBatchTokens). */
  microBatchTokens: number;
  /** Kept between calls regardless of the activation budget: one layer's scratch and the LM-head chunk of a micro-batch. */
  workspace: number;
  /** What each training pass may keep of its activations (the engines' activationBudgetBytes). */
  activationBudget: number;
}

const F32 = 4, BF16 = 2;
// Logits floats per LM-head chunk on the OpsModel backends (Backend::lm_chunk_floats, 32M floats).
const LM_CHUNK_BYTES = 128 * 2 ** 20;

/** Tokens in the largest training call: the micro-batch's responses x (prompt + response), capped by the token budget. */
export function largestMicroBatchTokens(c: TrainConfig): number {
  const full = c.actor.microBatchSize * (c.data.maxPromptLength + c.data.maxResponseLength);
  return c.actor.maxTokensPerMicroBatch > 0 ? Math.min(full, Math.max(c.actor.maxTokensPerMicroBatch, c.data.maxPromptLength + c.data.maxResponseLength)) : full;
}

/**
 * Bytes one layer's forward keeps per token for its backward: the residual input and two norm
 * outputs, q, k, v, the attention output and its o-proj input, gate, up and their product. In
 * bf16 mode the buffers that only feed GEMMs are bf16: native/src/ops/README.md measures 19 GiB
 * against 32 GiB for the same batch, the ratio used here.
 */
export function layerActivationBytesPerToken(m: ModelConfig, bf16Gemm: boolean): number {
  const q = m.numHeads * m.headDim, kv = m.numKvHeads * m.headDim;
  const fp32 = F32 * (4 * m.hiddenSize + 2 * q + 2 * kv + 3 * m.intermediateSize);
  return bf16Gemm ? Math.ceil((fp32 * 19) / 32) : fp32;
}

/** Bytes a training pass keeping every layer's activations needs (what the activation budget is compared with). */
export function keepAllActivationBytes(m: ModelConfig, c: TrainConfig): number {
  return m.numLayers * largestMicroBatchTokens(c) * layerActivationBytesPerToken(m, c.model.bf16Gemm);
}

export function planDeviceMemory(m: ModelConfig, c: TrainConfig, freeBytes: number): MemoryPlan {
  const p = parameterCount(m), bf16 = c.model.bf16Gemm ? BF16 : 0;
  // weights, gradients and the two AdamW moments in fp32, and the bf16 copy the GEMMs read
  const resident: MemoryPart[] = [{ name: "actor (fp32 weights, gradients, AdamW moments" + (bf16 ? ", bf16 copy)" : ")"), bytes: p * (4 * F32 + bf16) }];
  if (effectiveLoss(c).klCoef > 0) resident.push({ name: "reference (fp32 weights" + (bf16 ? ", bf16 copy)" : ")"), bytes: p * (F32 + bf16) });
  if (c.algorithm.advEstimator === "gae") {
    const pc = parameterCount(m, true);
    resident.push({ name: "critic (fp32 weights, gradients, AdamW moments" + (bf16 ? ", bf16 copy)" : ")"), bytes: pc * (4 * F32 + bf16) });
  }
  const residentBytes = resident.reduce((a, r) => a + r.bytes, 0);
  const kvSlots = Math.min(c.rollout.maxBatch, c.data.trainBatchSize * c.rollout.n);
  const kvTokens = c.data.maxPromptLength + Math.max(c.data.maxResponseLength, c.eval.maxNewTokens);
  // the native rollout's slot windows run an eighth past the longest sequence (at least 16
  // positions) so that they shift rarely (native/src/model/rollout.h, rollout_window)
  const window = kvTokens + Math.max(16, Math.floor(kvTokens / 8));
  const kvCache = kvSlots * window * m.numLayers * 2 * m.numKvHeads * m.headDim * F32 + kvSlots * m.vocabSize * F32;
  // Recomputing still keeps every layer's input (the residual stream), one layer's activations,
  // the final norm's input / output / gradient and an LM-head chunk of logits.
  const tokens = largestMicroBatchTokens(c);
  const workspace = tokens * F32 * m.hiddenSize * (m.numLayers + 3) + tokens * layerActivationBytesPerToken(m, c.model.bf16Gemm) + LM_CHUNK_BYTES;
  const budget = c.model.deviceMemoryFraction * freeBytes;
  const activationBudget = Math.max(0, budget - residentBytes - workspace);
  return { budget, resident, residentBytes, kvCache, kvSlots, kvTokens, microBatchTokens: tokens, workspace, activationBudget };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** The plan as log lines. */
export function describePlan(plan: MemoryPlan, m: ModelConfig, c: TrainConfig): string {
  const keepAll = keepAllActivationBytes(m, c);
  return [
    `device memory plan: budget ${gib(plan.budget)} (model.deviceMemoryFraction ${c.model.deviceMemoryFraction} of the free memory)`,
    ...plan.resident.map((r) => `  ${r.name}: ${gib(r.bytes)}`),
    `  rollout KV cache (rollout.maxBatch ${plan.kvSlots} slots of ${plan.kvTokens} tokens + margin, fp32): ${gib(plan.kvCache)}`,
    `  update workspace (${plan.microBatchTokens} tokens a micro-batch): ${gib(plan.workspace)}`,
    `  kept activations: ${gib(plan.activationBudget)} of the ${gib(keepAll)} keeping every layer would take` +
      (plan.activationBudget >= keepAll ? " (all kept)" : " (so each layer is recomputed before its backward)"),
  ].join("\n");
}

/** Throws a ConfigError naming the setting to lower when the plan cannot run. */
export function checkPlan(plan: MemoryPlan, c: TrainConfig): void {
  const free = plan.budget - plan.residentBytes;
  if (free < 0) {
    throw new ConfigError(
      `config key "model.path": the model's resident state (${plan.resident.map((r) => `${r.name} ${gib(r.bytes)}`).join(", ")}) needs ${gib(plan.residentBytes)}, ` +
        `more than the ${gib(plan.budget)} budget (model.deviceMemoryFraction ${c.model.deviceMemoryFraction} of the free memory): ` +
        `use a smaller model, turn the KL term off (loss.kl=false drops the reference) or raise model.deviceMemoryFraction`,
      "model.path",
    );
  }
  if (plan.kvCache > free) {
    throw new ConfigError(
      `config key "rollout.maxBatch": the rollout's KV cache needs ${gib(plan.kvCache)} but ${gib(free)} is left after the resident state: ` +
        `lower rollout.maxBatch (${c.rollout.maxBatch}) or data.maxResponseLength / eval.maxNewTokens`,
      "rollout.maxBatch",
    );
  }
  if (plan.workspace > free) {
    throw new ConfigError(
      `config key "actor.maxTokensPerMicroBatch": one micro-batch's workspace needs ${gib(plan.workspace)} but ${gib(free)} is left after the resident state: ` +
        `set or lower actor.maxTokensPerMicroBatch (${c.actor.maxTokensPerMicroBatch}) or actor.microBatchSize (${c.actor.microBatchSize})`,
      "actor.maxTokensPerMicroBatch",
    );
  }
}
