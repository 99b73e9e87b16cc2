/**
 * Engine backend "cuda" (OpsModel on a CUDA device) through the public API on the golden
 * fixtures (backendCompare.ts), skipped with the reason printed where cudaAvailable() is false
 * (no device, or a build without nvcc):
 *  - "cuda" vs "cpu" (OpsModel on the fast CPU ops), fp32 GEMMs: CUDA_FP32_VS_CPU;
 *  - "cuda" bf16Gemm vs "ops-cpu" bf16Gemm (the same bf16 math on both; the CPU reference of
 *    every op), smooth loss: CUDA_BF16_VS_OPS_CPU_BF16;
 *  - the critic (valueHead: true) "cuda" vs "cpu" on fixtures/qwen2_critic.safetensors
 *    (compareCriticBackends), under CUDA_FP32_VS_CPU;
 *  - device selection and its typed errors.
 * The bf16 GEMMs run on cuBLAS when it loads (bf16GemmImpl() says), else on the WMMA
 * kernel; rlvr_cuda_ops_model_check covers both. The bounds' sources are stated in
 * backendCompare.ts (backends.test.ts checks that they hold for fp32-level noise on the CPU);
 * each comparison prints its measured error (an H100 run: bench/results/gpu-h100/).
 * On a GPU machine without Node: bench/gpu/make_node_bundle.sh here, then
 * `bash bench/gpu/run_node_gpu_tests.sh packages/engine/test/backends.gpu.test.ts` there.
 */
import { describe, expect, it } from "vitest";

import { DeviceError, bf16GemmImpl, buildInfo, cudaAvailable, cudaUnavailableReason, devices } from "@rlvr/native";

import { Engine } from "../src/index.js";
import { CUDA_BF16_VS_OPS_CPU_BF16, CUDA_FP32_VS_CPU, compareBackends, compareCriticBackends } from "./backendCompare.js";
import { expectErr, paddedBatch, randomWeights, tinyConfig } from "./helpers.js";

const available = cudaAvailable();
const reason = cudaUnavailableReason();
if (!available) console.log(`[backends.gpu.test.ts] skipped: ${reason}`);

describe.skipIf(available)("engine backend cuda", () => {
  it.skip(`skipped: ${reason}`, () => {});
});

if (available) {
  describe("engine backend cuda: device", () => {
    it("reports the device under test; device selection", async () => {
      const d = devices();
      console.log(`[backends.gpu.test.ts] ${d[0]!.name} (cc ${d[0]!.computeCapability}), CUDA runtime ${buildInfo().cudaRuntimeVersion}, bf16 GEMMs: ${bf16GemmImpl()}`);
      // what runs the bf16 comparisons below: cuBLAS when it loads, else the WMMA kernel (with the reason)
      expect(bf16GemmImpl()).toMatch(/^(cublas|wmma) \(.+\)$/);
      const c = tinyConfig();
      const w = randomWeights(c, 1);
      const e = Engine.fromWeights(c, w, { backend: "cuda", device: d.length - 1 });
      expect(e.backend).toBe("cuda");
      const p = paddedBatch(c.vocabSize, 3, 5, 1);
      const ref = (await Engine.fromWeights(c, w).score(p)).logp;
      const got = (await e.score(p)).logp;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(CUDA_FP32_VS_CPU.logp);
      await expectErr(() => Engine.fromWeights(c, w, { backend: "cuda", device: d.length }), DeviceError, "device");
    });
  });

  compareBackends("cuda vs cpu", { backend: "cuda" }, { backend: "cpu" }, CUDA_FP32_VS_CPU);
  compareCriticBackends("cuda critic vs cpu", { backend: "cuda" }, { backend: "cpu" }, CUDA_FP32_VS_CPU);
  compareBackends(
    "cuda bf16Gemm vs ops-cpu bf16Gemm",
    { backend: "cuda", bf16Gemm: true },
    { backend: "ops-cpu", bf16Gemm: true },
    CUDA_BF16_VS_OPS_CPU_BF16,
    { smoothLoss: true },
  );
}
