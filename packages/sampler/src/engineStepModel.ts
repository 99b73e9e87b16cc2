import type { Engine } from "@rlvr/engine";
import { Tensor } from "@rlvr/native";

import type { StepModel } from "./stepModel.js";

/**
 * Adapts the engine's KV-cache decoder to the sampler. Prompts are left-padded
 * (position ids follow the mask, so padding changes nothing); the engine steps
 * every row, so finished rows are fed their last token and their logits dropped.
 * On engines with a native rollout (engine.nativeRollout) it also offers `rollout`, which
 * generate() prefers when no stop strings are given.
 */
export function engineStepModel(engine: Engine, opts: { maxNewTokens: number }): StepModel {
  const v = engine.config.vocabSize;
  let last = new Int32Array(0);
  return {
    vocabSize: v,
    maxSequenceLength: engine.config.maxPositionEmbeddings,
    async begin(prompts) {
      const b = prompts.length;
      const len = Math.max(...prompts.map((p) => p.length));
      const ids = new Int32Array(b * len), mask = new Float32Array(b * len);
      prompts.forEach((p, r) => {
        ids.set(p, r * len + len - p.length);
        mask.fill(1, r * len + len - p.length, (r + 1) * len);
      });
      last = Int32Array.from(prompts, (p) => p[p.length - 1]!);
      const capacity = len + opts.maxNewTokens; // cache slots: padded prompt + every step
      return Tensor.from(await engine.decode.prefill({ batch: b, length: len, inputIds: ids, attentionMask: mask, capacity }), [b, v]);
    },
    async step(rows, tokens) {
      rows.forEach((r, k) => (last[r] = tokens[k]!));
      const all = await engine.decode.step(last);
      if (rows.length === last.length) return Tensor.from(all, [rows.length, v]);
      const out = new Float32Array(rows.length * v);
      rows.forEach((r, k) => out.set(all.subarray(r * v, (r + 1) * v), k * v));
      return Tensor.from(out, [rows.length, v]);
    },
    end() {
      engine.decode.reset();
    },
    ...(engine.nativeRollout ? { rollout: (x: Parameters<typeof engine.decode.rollout>[0]) => engine.decode.rollout(x) } : {}),
  };
}
