// trainer.loggers and trainer.rolloutsFreq in a real (tiny) run: TensorBoard event files with
// verl's names, the before-training evaluation, and the rollouts of the chosen steps.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { train } from "../src/index.js";
import type { RolloutRecord } from "../src/loggers/rolloutLog.js";
import { tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

describe("train with loggers", () => {
  it("writes tensorboard events and rollouts every 2 steps and at the end; without tensorboard no event files, with rolloutsFreq 0 no rollouts", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    const out = join(await tempDir(), "run");
    const config = tinyConfig(model, data, { trainer: { loggers: ["console", "jsonl", "tensorboard"], rolloutsFreq: 2, experiment: "tiny" } });
    const r = await train({ config, outDir: out });
    expect(r.lastStep).toBe(3);
    expect(r.viewHints).toEqual([`tensorboard --logdir ${join(out, "tensorboard")}`]);
    expect(readdirSync(join(out, "rollouts")).sort()).toEqual(["step-000002.jsonl", "step-000003.jsonl"]);
    const lines = readFileSync(join(out, "rollouts", "step-000002.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as RolloutRecord);
    expect(lines).toHaveLength(8); // 2 prompts x 4 samples
    for (const l of lines) {
      expect(l.step).toBe(2);
      expect(typeof l.prompt).toBe("string");
      expect(l.prompt.length).toBeGreaterThan(0);
      expect(typeof l.response).toBe("string");
      expect([0, 1]).toContain(l.reward);
      expect(l.correct).toBe(l.reward === 1);
      expect(["eos", "stop", "length", "context"]).toContain(l.finish_reason);
      expect(l.length).toBeGreaterThan(0);
    }
    const [events] = readdirSync(join(out, "tensorboard"));
    const bytes = readFileSync(join(out, "tensorboard", events!));
    for (const tag of ["critic/score/mean", "actor/entropy", "response_length/mean", "timing_s/gen", "val/test_score/"]) {
      expect(bytes.includes(Buffer.from(tag)), tag).toBe(true);
    }

    const plain = join(await tempDir(), "plain");
    const p = await train({ config: tinyConfig(model, data, { trainer: { rolloutsFreq: 0 } }), outDir: plain });
    expect(p.viewHints).toEqual([]);
    expect(existsSync(join(plain, "tensorboard"))).toBe(false);
    expect(existsSync(join(plain, "rollouts"))).toBe(false);
  });

  it("a planted rollouts or tensorboard symlink is refused: nothing is written through it", async () => {
    const [model, data] = [await tinyModelDir(), await tinyData()];
    for (const folder of ["rollouts", "tensorboard"]) {
      const parent = await tempDir();
      const out = join(parent, "run"), outside = join(parent, "outside");
      mkdirSync(out);
      mkdirSync(outside);
      symlinkSync(outside, join(out, folder));
      const config = tinyConfig(model, data, { trainer: { loggers: ["tensorboard"], rolloutsFreq: 1 } });
      await expect(train({ config, outDir: out })).rejects.toThrow(new RegExp(`${folder} must be a folder \\(not a link`));
      expect(readdirSync(outside)).toEqual([]);
    }
  });
});
