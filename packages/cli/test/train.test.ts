import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

import { readMetrics } from "@rlvr/data";

import { tinyRunConfig } from "./helpers.js";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const run = promisify(execFile);

const setup = () =>
  tinyRunConfig({ actor: { ppoMiniBatchSize: 2, microBatchSize: 4 }, trainer: { totalSteps: 3, saveFreq: 1, testFreq: 3 } });

describe("rlvr train (built CLI)", () => {
  it("trains with a YAML config, --set and --out; plain progress lines off a TTY; --resume continues", async () => {
    const { config, out } = await setup();
    const first = await run("node", [cli, "train", "--config", config, "--set", "actor.lr=1e-4", "--out", out, "--max-steps", "2"]);
    expect(first.stderr).toMatch(/^step 1\/3 reward 0 acc 0 /m);
    expect(first.stderr).toMatch(/checkpoint: .*step-000002/);
    expect(readMetrics(join(out, "metrics.jsonl")).map((m) => m.step)).toEqual([1, 2]);
    // without --resume the run folder is never overwritten
    await expect(run("node", [cli, "train", "--config", config, "--out", out])).rejects.toThrow(/already holds a run.*--resume/);
    const second = await run("node", [cli, "train", "--resume", "--out", out]);
    expect(second.stderr).toMatch(/resuming from .*step-000002 \(step 2\)/);
    const metrics = readMetrics(join(out, "metrics.jsonl"));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(metrics.every((m) => m.lr === 1e-4)).toBe(true); // the saved config is the base on resume
    expect(metrics[2]!.test).toEqual({ math500: expect.any(Number) });
    expect(JSON.parse(readFileSync(join(out, "checkpoints", "step-000003", "trainer_state.json"), "utf8")).step).toBe(3);
  });

  it("--preset ppo trains with a critic (value-loss metrics, critic checkpoint)", async () => {
    const { config, out } = await setup();
    await run("node", [cli, "train", "--config", config, "--preset", "ppo", "--set", "critic.lr=1e-3", "--out", out]);
    const metrics = readMetrics(join(out, "metrics.jsonl")) as (ReturnType<typeof readMetrics>[number] & { vf_loss?: number })[];
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(metrics.every((m) => typeof m.vf_loss === "number" && m.vf_loss >= 0)).toBe(true);
    const critic = JSON.parse(readFileSync(join(out, "checkpoints", "step-000003", "critic", "config.json"), "utf8")) as { architectures: string[] };
    expect(critic.architectures).toEqual(["Qwen2ForTokenClassification"]);
  });

  it("--print-config shows the resolved config; errors name the key and allowed values", async () => {
    const { config } = await setup();
    const { stdout } = await run("node", [cli, "train", "--config", config, "--preset", "dr-grpo", "--print-config"]);
    expect(stdout).toMatch(/normStd: false/);
    expect(stdout).toMatch(/klType: low_var_kl/);
    await expect(run("node", [cli, "train", "--config", config, "--set", "actor.klType=k9"])).rejects.toThrow(
      /config key "actor.klType": got "k9"; allowed values: "kl", "abs", "mse", "low_var_kl"/,
    );
  });
});
