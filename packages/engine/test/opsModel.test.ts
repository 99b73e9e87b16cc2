/**
 * OpsModel (native/src/model/ops_model.*: the model written once over the ops interface) on the
 * "cpu" backend against the reference ops ("ops-cpu"): runs native/test's
 * rlvr_ops_model_cpu_check, which the addon's build step builds (native/scripts/build-checks.mjs),
 * and which compares score, forward_backward (loss and every gradient), AdamW and decode logits on
 * four tiny configurations within the tolerances stated in native/test/model_suite.h. The same
 * suite runs CUDA vs CPU on a device (rlvr_cuda_ops_model_check, bench/gpu/run_gpu_checks.sh).
 * The check runs as an asynchronous child process, so the worker's event loop stays free.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { repoRoot } from "@rlvr/testing/repoRoot";

const root = repoRoot();
const check = join(root, "native", "build", "checks", "rlvr_ops_model_cpu_check");
const run = promisify(execFile);

describe("OpsModel on the cpu backend vs the reference ops", () => {
  it("rlvr_ops_model_cpu_check passes every comparison", async () => {
    expect(existsSync(check), `${check} is missing: run \`pnpm build\` (the addon's build step builds it)`).toBe(true);
    let stdout: string;
    try {
      ({ stdout } = await run(check, { encoding: "utf8", maxBuffer: 64 << 20 }));
    } catch (e) {
      const out = String((e as { stdout?: string }).stdout ?? "");
      console.error(out.split("\n").filter((l) => l.startsWith("FAIL")).join("\n"));
      throw new Error(`rlvr_ops_model_cpu_check failed: ${(e as Error).message}\n${out.slice(-2000)}`);
    }
    const summary = /# ops model cpu check: (\d+) passed, (\d+) failed/.exec(stdout);
    expect(summary, stdout.slice(-2000)).not.toBeNull();
    expect(Number(summary![2])).toBe(0);
    expect(Number(summary![1])).toBeGreaterThan(500);
  }, 900_000);
});
