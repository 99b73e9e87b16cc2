import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AccuracyHistory, appendMetrics, parseStepMetrics, readAccuracyHistory, readMetrics, sharedPath, type StepMetrics } from "../src/index.js";
import { tempDir } from "./helpers.js";

export function sampleMetrics(step: number): StepMetrics {
  return {
    step,
    epoch: step,
    time: step * 30.5,
    reward_mean: 0.5,
    train_acc: 0.5,
    entropy: 0.4,
    response_length_mean: 600,
    kl: 0.001,
    clip_frac: 0.01,
    pg_loss: -0.02,
    grad_norm: 0.3,
    lr: 1e-6,
    tokens_per_s: 5000,
    phase_s: { rollout: 20, reward: 1, old_logp: 2, ref_logp: 2, update: 5 },
  };
}

describe("metrics.jsonl", () => {
  it("appends validated records and reads them back, keeping unknown keys", () => {
    const file = join(tempDir(), "metrics.jsonl");
    appendMetrics(file, sampleMetrics(1));
    appendMetrics(file, { ...sampleMetrics(2), test: { math500: 0.71 }, reflection: { recheck: 3 }, extra_field: "kept" });
    const back = readMetrics(file);
    expect(back.length).toBe(2);
    expect(back[1]!.test).toEqual({ math500: 0.71 });
    expect(back[1]!.extra_field).toBe("kept");
  });

  it("errors name the file, the line and the field", () => {
    const file = join(tempDir(), "metrics.jsonl");
    const { phase_s, ...noPhases } = sampleMetrics(2);
    void phase_s;
    writeFileSync(file, `${JSON.stringify(sampleMetrics(1))}\n${JSON.stringify(noPhases)}\n`);
    expect(() => readMetrics(file)).toThrow(`${file}:2: missing field "phase_s"`);
    writeFileSync(file, JSON.stringify({ ...sampleMetrics(1), train_acc: 1.5, phase_s: { ...sampleMetrics(1).phase_s, update: "x" } }));
    expect(() => readMetrics(file)).toThrow(/metrics.jsonl:1: field "train_acc": must be in \[0, 1\]; field "phase_s.update"/);
    writeFileSync(file, "{oops\n");
    expect(() => readMetrics(file)).toThrow(`${file}:1: invalid JSON`);
    expect(() => readMetrics(join(tempDir(), "none.jsonl"))).toThrow(/metrics file not found/);
    expect(() => appendMetrics(file, { ...sampleMetrics(0) })).toThrow(/field "step"/);
    expect(() => parseStepMetrics({ ...sampleMetrics(1), test: { aime24: -0.1 } })).toThrow(/test.aime24/);
  });
});

describe("accuracy history", () => {
  it("records per-epoch accuracies from rewards and round-trips in acc_step_500.json's shape", () => {
    const h = new AccuracyHistory();
    h.recordRewards([124, 124, 7, 124, 7, 124], [true, false, false, true, false, true]);
    h.recordRewards([7, 7], [true, true]);
    expect(h.get(124)).toEqual([0.75]);
    expect(h.get(7)).toEqual([0, 1]);
    const file = join(tempDir(), "acc.json");
    h.write(file);
    expect([...readAccuracyHistory(file)]).toEqual([["124", [0.75]], ["7", [0, 1]]]);
    expect(readFileSync(file, "utf8")).toBe('{\n    "124": [\n        0.75\n    ],\n    "7": [\n        0.0,\n        1.0\n    ]\n}\n');
    expect(() => h.record(1, 1.5)).toThrow(/\[0, 1\]/);
    expect(() => h.recordRewards([1], [])).toThrow(/1 indices but 0 rewards/);
  });

  const acc = sharedPath("datasets", "one-shot-rlvr", "acc_step_500.json");
  it.skipIf(!acc)("rewrites the authors' acc_step_500.json byte for byte (skipped without shared data)", () => {
    const text = readFileSync(acc!, "utf8");
    const h = AccuracyHistory.read(acc!);
    expect(h.toText().trimEnd()).toBe(text.trimEnd());
  });
});
