/**
 * Engine backends (EngineOptions.backend) on this machine, no GPU needed (tolerance sets and
 * their reasons: backendCompare.ts):
 *
 * 1. "ops-cpu" (OpsModel on the reference ops: the code path of the "cuda" backend with host
 *    memory and the ops' CPU references) vs "cpu" (OpsModel on the fast CPU ops, bitwise the
 *    former engine::Model) through the public API on the golden fixtures: registry, score,
 *    logits, forwardBackward (loss, every gradient), AdamW, optimizer state, decode logits
 *    packed sequences, shared-prompt scoring (OPS_CPU_VS_CPU: ~10x the measured fp32 differences).
 * 2. "ops-cpu" with bf16Gemm vs "cpu" (fp32): a smoke check of the bf16 path (BF16_VS_FP32),
 *    and that the flag takes effect (bf16 moves logp far beyond fp32 rounding).
 * 3. The bounds of backends.gpu.test.ts (estimates until measured on a device) checked against
 *    how far fp32-level noise (weights x (1 + 1e-6 N)) moves the same paths on the CPU: fp32
 *    (CUDA_FP32_VS_CPU) and bf16 (CUDA_BF16_VS_OPS_CPU_BF16), so those bounds are not
 *    tighter than the rounding differences a correct CUDA implementation must show.
 * 4. The critic (valueHead: true): "ops-cpu" vs "cpu" on fixtures/qwen2_critic.safetensors
 *    (compareCriticBackends: values, valueForwardBackward's loss / clipFrac / every gradient, one
 *    AdamW step, the LM-head paths' typed error), under the policy's OPS_CPU_VS_CPU bounds.
 * 5. Typed errors: scorePrefixed's and segmentIds' argument checks and the value paths on a
 *    policy engine fail alike on every backend; invalid backend options; backend "cuda"
 *    without a device throws a DeviceError (never a crash); argument validation is the same on
 *    every backend.
 */
import { describe, expect, it } from "vitest";

import { DeviceError, IndexRangeError, ShapeError, ValueError, buildInfo, cudaAvailable, devices } from "@rlvr/native";

import { Engine, type EngineBackend } from "../src/index.js";
import {
  BF16_VS_FP32, CUDA_BF16_VS_OPS_CPU_BF16, CUDA_FP32_VS_CPU, OPS_CPU_VS_CPU, compareBackends, compareCriticBackends,
} from "./backendCompare.js";
import { expectErr, loadGolden, paddedBatch, randomWeights, tinyConfig, toI32 } from "./helpers.js";

compareBackends("ops-cpu vs cpu", { backend: "ops-cpu" }, { backend: "cpu" }, OPS_CPU_VS_CPU);
compareBackends("ops-cpu bf16Gemm vs cpu", { backend: "ops-cpu", bf16Gemm: true }, {}, BF16_VS_FP32, { smoothLoss: true });
compareCriticBackends("ops-cpu critic vs cpu", { backend: "ops-cpu" }, { backend: "cpu" }, OPS_CPU_VS_CPU);
const NOISE = 1e-6;
compareBackends("GPU fp32 bounds vs 1e-6 weight noise (ops-cpu)", { backend: "ops-cpu" }, { backend: "ops-cpu" }, CUDA_FP32_VS_CPU, {
  refWeightNoise: NOISE,
});
compareBackends(
  "GPU bf16 bounds vs 1e-6 weight noise (ops-cpu bf16)",
  { backend: "ops-cpu", bf16Gemm: true },
  { backend: "ops-cpu", bf16Gemm: true },
  CUDA_BF16_VS_OPS_CPU_BF16,
  { smoothLoss: true, refWeightNoise: NOISE },
);

describe("bf16Gemm takes effect", () => {
  it("ops-cpu bf16 vs ops-cpu fp32: logp moves by more than 10x the fp32 bound, less than the bf16 bound", async () => {
    const g = await loadGolden("qwen2");
    const x = {
      batch: g.batch, length: g.length, inputIds: toI32(g.t.input_ids!), attentionMask: g.t.attention_mask!,
      targets: toI32(g.t.targets!), temperature: g.loss.temperature,
    };
    const fp32 = (await Engine.fromWeights(g.config, g.weights, { backend: "ops-cpu" }).score(x)).logp;
    const bf16 = (await Engine.fromWeights(g.config, g.weights, { backend: "ops-cpu", bf16Gemm: true }).score(x)).logp;
    let err = 0;
    for (let i = 0; i < fp32.length; i++) err = Math.max(err, Math.abs(bf16[i]! - fp32[i]!));
    console.log(`[bf16Gemm] qwen2 score.logp bf16 vs fp32: ${err.toExponential(2)}`);
    expect(err).toBeGreaterThan(10 * OPS_CPU_VS_CPU.logp);
    expect(err).toBeLessThanOrEqual(BF16_VS_FP32.logp);
  });
});

describe("backend options and typed errors", () => {
  const c = tinyConfig();
  const w = randomWeights(c, 1);
  const ops = Engine.fromWeights(c, w, { backend: "ops-cpu" });
  const V = c.vocabSize;
  const p = paddedBatch(V, 3, 5, 1);
  const weights = Float32Array.from(p.attentionMask, (m) => m / 10);
  const zeros = new Float32Array(15);

  it("engine.backend; the default is cpu", async () => {
    expect(Engine.fromWeights(c, w).backend).toBe("cpu");
    expect(Engine.fromWeights(c, w, { backend: "cpu" }).backend).toBe("cpu");
    expect(ops.backend).toBe("ops-cpu");
  });

  it("typed errors are the same on every backend (scorePrefixed's arguments, value paths on a policy, segment ids)", async () => {
    const msg = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    const prefix = { batch: 1, length: 3, inputIds: new Int32Array([1, 2, 3]), attentionMask: new Float32Array([1, 1, 1]) };
    const cpu = Engine.fromWeights(c, w);
    for (const e of [ops, cpu]) {
      expect((await e.scorePrefixed({ ...p, prefix, group: new Int32Array([0, 0, 0]) })).logp.length).toBe(15);
      await expect(e.scorePrefixed({ ...p, prefix, group: new Int32Array([0, 1, 0]) })).rejects.toThrow(expect.objectContaining({ argument: "group" }));
      const empty = { ...prefix, attentionMask: new Float32Array(3) };
      await expectErr(() => e.scorePrefixed({ ...p, prefix: empty, group: new Int32Array(3) }), ValueError, "prefixMask");
    }
    // value paths on a policy engine: the cpu engine's error (argument "engine")
    await expectErr(() => ops.values(p), ValueError, "engine");
    await expectErr(() => ops.valueForwardBackward({ ...p, weights, oldValues: zeros, returns: zeros }), ValueError, "engine");
    expect(await msg(() => ops.values(p))).toBe(await msg(() => Engine.fromWeights(c, w).values(p)));
    // segment ids are checked the same way on every backend
    await expectErr(() => ops.score({ ...p, segmentIds: new Int32Array(15).fill(-1) }), ValueError, "segmentIds");
    await expectErr(() => ops.decode.prefill({ ...p, segmentIds: new Int32Array(15), capacity: 6 }), ValueError, "segmentIds");
    // a value-head (critic) engine runs on every backend
    const critic = Engine.fromWeights(c, w, { valueHead: true, backend: "ops-cpu" });
    expect([critic.valueHead, critic.backend]).toEqual([true, "ops-cpu"]);
    expect(Array.from(await critic.values(p)).every((v) => v === 0)).toBe(true); // a head absent from the weights is zero
  });

  it("invalid backend options", async () => {
    await expectErr(() => Engine.fromWeights(c, w, { backend: "tpu" as EngineBackend }), ValueError, "backend");
    await expectErr(() => Engine.fromWeights(c, w, { bf16Gemm: true }), ValueError, "bf16Gemm");
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cpu", bf16Gemm: true }), ValueError, "bf16Gemm");
    await expectErr(() => Engine.fromWeights(c, w, { device: 0 }), ValueError, "device");
    await expectErr(() => Engine.fromWeights(c, w, { backend: "ops-cpu", device: 0 }), ValueError, "device");
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda", device: -1 }), ValueError, "device");
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda", device: 0.5 }), ValueError, "device");
  });

  it('backend "cuda" without a device throws a DeviceError', async () => {
    const argument = buildInfo().cudaCompiled ? "device" : "backend";
    // an ordinal past the last device (always absent)
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda", device: devices().length }), DeviceError, argument);
    if (cudaAvailable()) {
      console.log("[backends.test.ts] a CUDA device is present: the default-device case is covered by backends.gpu.test.ts");
      return;
    }
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda" }), DeviceError, argument);
    await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda", bf16Gemm: true }), DeviceError, argument);
  });

  it("argument validation is the same on ops-cpu", async () => {
    await expectErr(() => ops.score({ ...p, inputIds: p.inputIds.map((x, i) => (i === 3 ? V : x)) }), IndexRangeError, "inputIds");
    await expectErr(() => ops.score({ ...p, attentionMask: p.attentionMask.map(() => 2) }), ValueError, "attentionMask");
    await expectErr(() => ops.score({ ...p, inputIds: p.inputIds.slice(1) }), ShapeError, "inputIds");
    await expectErr(() => ops.score({ ...p, temperature: 0 }), ValueError, "temperature");
    const fb = { ...p, weights, oldLogp: zeros, advantages: zeros };
    await expectErr(() => ops.forwardBackward({ ...fb, oldLogp: zeros.map((x, i) => (i === 2 ? NaN : x)) }), ValueError, "oldLogp");
    await expectErr(() => ops.forwardBackward({ ...fb, weights: Float32Array.from(weights, () => 0.1) }), ValueError, "weights");
    await expectErr(() => ops.forwardBackward({ ...fb, klCoef: 0.1 }), ValueError, "refLogp");
    await expectErr(() => ops.optimizerStep({ lr: -1 }), ValueError, "lr");
    await expectErr(() => ops.parameter("model.nope"), ValueError, "name");
    await expectErr(() => ops.setParameter("model.norm.weight", new Float32Array(3)), ShapeError, "data");
    await expectErr(() => ops.setParameter("model.norm.weight", new Float32Array(16).fill(NaN)), ValueError, "data");
    const fresh = Engine.fromWeights(c, w, { backend: "ops-cpu" });
    await expectErr(() => fresh.decode.step(new Int32Array([0, 1, 2])), ValueError, "tokens");
    await fresh.decode.prefill({ ...p, capacity: 6 });
    await expectErr(() => fresh.decode.step(new Int32Array([0, V + 5, 1])), IndexRangeError, "tokens");
    await expectErr(() => fresh.decode.step(new Int32Array([0, 1])), ShapeError, "tokens");
    await expectErr(() => fresh.decode.prefill({ ...p, capacity: 4 }), IndexRangeError, "capacity");
    await fresh.decode.step(new Int32Array([0, 1, 2]));
    await expectErr(() => fresh.decode.step(new Int32Array([0, 1, 2])), IndexRangeError, "decode"); // the cache is full (6 slots)
  });
});
