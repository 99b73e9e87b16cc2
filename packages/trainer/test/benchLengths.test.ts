import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { readMetrics } from "@rlvr/data";

import { benchLengths, resolveConfig, train } from "../src/index.js";
import { REQUIRED_PATHS as paths, parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

describe("rollout.benchLengths (timing a step on any weights)", () => {
  it("lengths are uniform in [min, max], fixed by the seed, spread over the range", () => {
    const a = benchLengths([200, 3072], 1024, 7);
    expect(a.every((x) => x >= 200 && x <= 3072)).toBe(true);
    expect(Array.from(a)).toEqual(Array.from(benchLengths([200, 3072], 1024, 7)));
    expect(Array.from(a)).not.toEqual(Array.from(benchLengths([200, 3072], 1024, 8)));
    // 1024 uniform draws: the mean is within ~4 standard errors (829 / sqrt(1024) = 26) of 1636
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(Math.abs(mean - 1636)).toBeLessThan(110);
    expect(Math.min(...a)).toBeLessThan(300);
    expect(Math.max(...a)).toBeGreaterThan(2950);
    expect(Array.from(benchLengths([5, 5], 3, 1))).toEqual([5, 5, 5]);
  });

  it("a training step's responses have exactly the forced lengths; min > max is refused", async () => {
    const model = await tinyModelDir();
    const data = await tinyData();
    const config = tinyConfig(model, data, { trainer: { totalSteps: 1, testFreq: 0, saveFreq: 0 }, eval: { beforeTrain: false }, rollout: { benchLengths: [6, 6] }, data: { maxResponseLength: 8 } });
    const outDir = join(await tempDir(), "run");
    await train({ config, outDir, reward: parityReward });
    const [m] = readMetrics(join(outDir, "metrics.jsonl"));
    expect(m!.response_length_mean).toBe(6);
    expect(m!.truncated_frac).toBe(0);
    expect(() => resolveConfig({ sets: [...paths, "rollout.benchLengths=[9,3]"] })).toThrow(/rollout\.benchLengths/);
  });
});
