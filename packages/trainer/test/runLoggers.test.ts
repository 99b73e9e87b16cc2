// The run's loggers: verl metric names, rollouts files, and the TensorBoard files they write.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { METRIC_NAMES, verlNamedScalars } from "../src/loggers/metricNames.js";
import { savesRollouts, type RolloutRecord } from "../src/loggers/rolloutLog.js";
import { RunLoggers } from "../src/loggers/runLoggers.js";

const dir = mkdtempSync(join(tmpdir(), "rlvr-loggers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = {
  step: 3, epoch: 3, time: 9.5, reward_mean: 0.5, train_acc: 0.5, entropy: 0.7, response_length_mean: 12, kl: 0.01,
  clip_frac: 0.1, pg_loss: -0.2, grad_norm: 1.5, lr: 1e-6, tokens_per_s: 100, generated_tokens: 240,
  phase_s: { rollout: 1, reward: 0.5, old_logp: 0, ref_logp: 0.5, update: 2 },
  test: { math500: 0.3 }, reflection: { recheck: 2 }, grad_norm_nonfinite: false, my_key: 4,
};

const sample = (i: number): RolloutRecord => ({
  step: 3, example: 0, prompt: "What is 2+3?", response: `think ${i} \\boxed{5}`, reward: 1, correct: true, extracted: "5", gold: "5",
  finish_reason: "eos", length: 7,
});

describe("verl metric names", () => {
  it("maps the keys verl dashboards read, and keeps every other number under rlvr/", () => {
    const tags = new Map(verlNamedScalars(record).map((v) => [v.tag, v.value]));
    expect(tags.get("critic/score/mean")).toBe(0.5);
    expect(tags.get("actor/entropy")).toBe(0.7);
    expect(tags.get("actor/pg_clipfrac")).toBe(0.1);
    expect(tags.get("actor/kl_loss")).toBe(0.01);
    expect(tags.get("response_length/mean")).toBe(12);
    expect(tags.get("timing_s/gen")).toBe(1);
    expect(tags.get("timing_s/update_actor")).toBe(2);
    expect(tags.get("timing_s/step")).toBe(4);
    expect(tags.get("perf/throughput")).toBe(60);
    expect(tags.get("val/test_score/math500")).toBe(0.3);
    expect(tags.get("rlvr/reflection/recheck")).toBe(2);
    expect(tags.get("rlvr/my_key")).toBe(4);
    expect(tags.get("rlvr/grad_norm_nonfinite")).toBe(0);
    expect(tags.has("rlvr/step")).toBe(false);
    // one name per key, and no two keys share a name
    expect(new Set(METRIC_NAMES.map((m) => m.name)).size).toBe(METRIC_NAMES.length);
  });
});

describe("RunLoggers", () => {
  it("tensorboard: one event file with the step's verl-named scalars; rollouts every K steps and at the end", () => {
    const run = join(dir, "run1");
    const loggers = new RunLoggers(run, { loggers: ["console", "jsonl", "tensorboard"], project: "p", experiment: "e", rolloutsFreq: 2, totalSteps: 5 });
    loggers.eval(0, { math500: 0.25 });
    loggers.step(record);
    expect([1, 2, 3, 4, 5].filter((s) => loggers.wantsRollouts(s))).toEqual([2, 4, 5]);
    const path = loggers.rollouts(3, [sample(1), sample(2)]);
    loggers.close();
    expect(path).toBe(join(run, "rollouts", "step-000003.jsonl"));
    const lines = readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as RolloutRecord);
    expect(lines.map((l) => l.response)).toEqual(["think 1 \\boxed{5}", "think 2 \\boxed{5}"]);
    const files = readdirSync(join(run, "tensorboard"));
    expect(files).toHaveLength(1);
    const bytes = readFileSync(join(run, "tensorboard", files[0]!));
    for (const tag of ["critic/score/mean", "actor/pg_clipfrac", "val/test_score/math500", "timing_s/gen"]) expect(bytes.includes(Buffer.from(tag))).toBe(true);
    expect(bytes.includes(Buffer.from("think 1 \\boxed{5}"))).toBe(true);
    expect(loggers.viewHints()).toEqual([`tensorboard --logdir ${join(run, "tensorboard")}`]);
  });

  it("without tensorboard or wandb no event file is written; wandb adds the sync hint", () => {
    const plain = new RunLoggers(join(dir, "run2"), { loggers: ["console", "jsonl"], project: "p", experiment: "e", rolloutsFreq: 0, totalSteps: 3 });
    plain.step(record);
    plain.close();
    expect(existsSync(join(dir, "run2", "tensorboard"))).toBe(false);
    expect(savesRollouts(3, 0, 3)).toBe(false);
    const wb = new RunLoggers(join(dir, "run3"), { loggers: ["wandb"], project: "proj", experiment: "exp", rolloutsFreq: 0, totalSteps: 3, resumeStep: 2 });
    wb.close();
    expect(wb.viewHints()[1]).toMatch(/^wandb sync --sync-tensorboard --project proj --id exp /);
  });
});
