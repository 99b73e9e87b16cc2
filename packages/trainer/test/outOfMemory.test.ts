import { describe, expect, it } from "vitest";

import { OutOfMemoryError, ValueError } from "@rlvr/native";

import { TrainOutOfMemoryError, memorySettings, outOfMemoryStop, resolveConfig } from "../src/index.js";
import { REQUIRED_PATHS as paths } from "./helpers.js";

const oom = () => new OutOfMemoryError("cudaMalloc(8589934592 bytes) on device 0: out of memory", "ERR_RLVR_OUT_OF_MEMORY");

describe("an allocation failure stops the run naming the settings that size the phase", () => {
  const c = resolveConfig({ sets: [...paths, "actor.maxTokensPerMicroBatch=16384", "actor.microBatchSize=64", "rollout.maxBatch=256"] });

  it.each([
    ["rollout", ["rollout.maxBatch", "data.maxResponseLength"], /rollout\.maxBatch \(256\)/],
    ["eval", ["rollout.maxBatch", "eval.maxNewTokens"], /eval\.maxNewTokens \(3072\)/],
    ["ref_logp", ["actor.logProbMaxTokens", "actor.logProbMicroBatchSize"], /actor\.logProbMaxTokens \(16384\)/],
    ["old_logp", ["actor.logProbMaxTokens", "actor.logProbMicroBatchSize"], /token slots/],
    ["update", ["actor.maxTokensPerMicroBatch", "actor.microBatchSize", "model.activationBudgetMB"], /actor\.maxTokensPerMicroBatch \(16384\)/],
    ["setup", ["model.path"], /weights, gradients and optimizer state/],
  ])("%s", (phase, keys, detail) => {
    const e = outOfMemoryStop(oom(), 12, phase, c, { step: 10, dir: "runs/x/checkpoints/step-10" });
    expect(e).toBeInstanceOf(TrainOutOfMemoryError);
    expect(e!.keys).toEqual(keys);
    expect(e!.argument).toBe(keys[0]);
    expect(e!.code).toBe("ERR_RLVR_OUT_OF_MEMORY");
    expect(e!.message).toMatch(`out of memory in step 12 (${phase})`);
    expect(e!.message).toMatch(detail);
    expect(e!.message).toMatch(`lower ${keys.join(" or ")}`);
    expect(e!.message).toMatch(/runs\/x\/checkpoints\/step-10 \(step 10\) is intact/);
    expect(e!.message).toContain("cudaMalloc(8589934592 bytes)"); // the native cause is kept
  });

  it("without a token budget the update's advice says to set one; no checkpoint yet says so", () => {
    const e = outOfMemoryStop(oom(), 1, "update", resolveConfig({ sets: paths }), null)!;
    expect(e.message).toMatch(/actor\.maxTokensPerMicroBatch is 0: no token budget; set one/);
    expect(e.message).toMatch(/no checkpoint was written yet/);
    expect(memorySettings("critic", resolveConfig({ sets: paths })).keys[0]).toBe("actor.maxTokensPerMicroBatch");
  });

  it("other errors pass through", () => {
    expect(outOfMemoryStop(new ValueError("x", "ERR_RLVR_VALUE"), 1, "update", c, null)).toBeNull();
    expect(outOfMemoryStop(new Error("out of memory"), 1, "update", c, null)).toBeNull();
  });
});
