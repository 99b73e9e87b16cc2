/**
 * OpsModel (cuda/engine/ops_model.*: the model written once over the ops interface, with a CPU
 * and a CUDA backend) on its CPU backend against this package's CPU engine: builds and runs
 * cuda/tools' rlvr_ops_model_cpu_check (needs cmake and a C++ compiler, no GPU), which compares
 * score, forward_backward (loss and every gradient), AdamW and decode logits on three tiny
 * configurations with the tolerances stated in cuda/tools/ops_model_suite.h. The same suite runs
 * CUDA vs CPU on a device (rlvr_cuda_ops_model_check, bench/gpu/run_gpu_checks.sh).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const build = join(root, "native", "build", "ops-model-cpu-check");
const hasCmake = spawnSync("cmake", ["--version"]).status === 0;

describe.skipIf(!hasCmake)("OpsModel (CPU backend) vs the CPU engine", () => {
  it("rlvr_ops_model_cpu_check passes every comparison", () => {
    execFileSync("cmake", ["-S", join(root, "cuda", "tools"), "-B", build, "-DCMAKE_BUILD_TYPE=Release"], { stdio: "pipe" });
    execFileSync("cmake", ["--build", build, "-j2", "--target", "rlvr_ops_model_cpu_check"], { stdio: "pipe" });
    const r = spawnSync(join(build, "rlvr_ops_model_cpu_check"), { encoding: "utf8" });
    const summary = /# ops model cpu check: (\d+) passed, (\d+) failed/.exec(r.stdout);
    if (r.status !== 0) console.error(r.stdout.split("\n").filter((l) => l.startsWith("FAIL")).join("\n"));
    expect(summary, r.stdout.slice(-2000)).not.toBeNull();
    expect(Number(summary![2])).toBe(0);
    expect(Number(summary![1])).toBeGreaterThan(500);
    expect(r.status).toBe(0);
  }, 900_000);
});
if (!hasCmake) console.warn("opsModel.test.ts skipped: cmake is not on PATH");
