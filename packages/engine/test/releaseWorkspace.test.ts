/**
 * Engine.releaseWorkspace frees what an engine keeps between calls (kept activations, LM-head
 * chunk, decode logits) so the next phase can use the memory; on every backend it must change
 * no result: an engine that releases between every call matches, bit for bit, one that never
 * does, through training passes, optimizer steps, scoring and a decode in progress.
 */
import { describe, expect, it } from "vitest";

import { Engine, type EngineBackend } from "../src/index.js";

import { loadGolden, toI32 } from "./helpers.js";

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

describe.each<[EngineBackend, boolean]>([["cpu", false], ["ops-cpu", false], ["ops-cpu", true]])("releaseWorkspace on %s (bf16Gemm %s)", (backend, bf16Gemm) => {
  it("changes no result: training, scoring and a decode across releases equal an engine that keeps its workspace", async () => {
    const g = await loadGolden("qwen2");
    const x = { batch: g.batch, length: g.length, inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask! };
    const fb = { ...x, targets: toI32(g.t.targets!), ...g.loss, weights: g.t.weights!, oldLogp: g.t.old_logp!, refLogp: g.t.ref_logp!, advantages: g.t.advantages! };
    const opts = { backend, ...(bf16Gemm ? { bf16Gemm } : {}) };
    const kept = Engine.fromWeights(g.config, g.weights, opts);
    const freed = Engine.fromWeights(g.config, g.weights, opts);
    const run = async (e: Engine, release: boolean) => {
      const out: unknown[] = [];
      const free = () => release && e.releaseWorkspace();
      for (let step = 0; step < 2; step++) {
        out.push((await e.forwardBackward(fb)).tokenLogp);
        free();
        out.push((await e.forwardBackward(fb)).total);
        free();
        out.push(await e.optimizerStep(ADAM));
        free();
      }
      out.push((await e.score({ ...x, targets: fb.targets, temperature: 0.7 })).logp);
      free();
      // a decode in progress keeps its KV cache across a release
      out.push(await e.decode.prefill({ batch: 1, length: 3, inputIds: x.inputIds.slice(0, 3), attentionMask: new Float32Array(3).fill(1), capacity: 6 }));
      free();
      out.push(await e.decode.step(Int32Array.of(5)));
      free();
      out.push(await e.decode.step(Int32Array.of(7)));
      e.decode.reset();
      out.push(e.parameterNames().map((n) => e.parameter(n)));
      return out;
    };
    const a = await run(kept, false), b = await run(freed, true);
    expect(b.length).toBe(a.length);
    a.forEach((v, i) => expect(b[i], `result ${i}`).toEqual(v));
  }, 120_000);
});
