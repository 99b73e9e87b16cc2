// Fault injection: SIGKILL the trainer at random points of a short run (several seeds), resume
// each time, and compare the final weights and AdamW state with an uninterrupted run, bit for
// bit. The kill points are drawn over the measured length of the uninterrupted run, so they
// spread over the run on a slow machine too; the assertions do not depend on where they land.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { readMetrics } from "@rlvr/data";
import { mulberry32 as rng } from "@rlvr/testing/rng"; // the kill points

import { tinyRunConfig } from "./helpers.js";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const TOTAL = 5;


/**
 * Starts `rlvr train`; once it has loaded (its "run ..." line), kills it after `killAfterMs`
 * (never when null). Resolves with the exit code (null when killed) and the ms from load to exit.
 */
function trainOnce(args: string[], killAfterMs: number | null): Promise<{ code: number | null; trainMs: number; stderr: string }> {
  return new Promise((done) => {
    const p = spawn("node", [cli, "train", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "", loadedAt = 0, timer: NodeJS.Timeout | undefined;
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!loadedAt && /^run .*: steps/m.test(stderr)) {
        loadedAt = performance.now();
        if (killAfterMs !== null) timer = setTimeout(() => p.kill("SIGKILL"), killAfterMs);
      }
    });
    p.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, trainMs: loadedAt ? performance.now() - loadedAt : 0, stderr });
    });
  });
}

const holdsRun = (out: string) => ["config.json", "metrics.jsonl", "checkpoints"].some((f) => existsSync(join(out, f)));
const finalFiles = (out: string) => {
  const ck = join(out, "checkpoints", `step-${String(TOTAL).padStart(6, "0")}`);
  return { model: readFileSync(join(ck, "model", "model.safetensors")), optimizer: readFileSync(join(ck, "optimizer.safetensors")) };
};

describe("fault injection: SIGKILL at random points, resume, same final weights", () => {
  // a hang guard far above the ~30-40 s it takes on a shared 2-core machine
  it("3 seeds x up to 2 kills each: bit-identical final model and optimizer state", { timeout: 400_000 }, async () => {
    // two optimizer steps a training step, so a kill can land between them too
    const { config, dir } = await tinyRunConfig({
      actor: { lr: 1e-3, ppoMiniBatchSize: 1, microBatchSize: 1 }, eval: { beforeTrain: false }, trainer: { totalSteps: TOTAL, saveFreq: 1, testFreq: 0, seed: 3 },
    });
    const ref = join(dir, "ref");
    const base = await trainOnce(["--config", config, "--out", ref], null);
    expect(base.code, base.stderr).toBe(0);
    const want = finalFiles(ref);
    const wantMetrics = readMetrics(join(ref, "metrics.jsonl")).map((m) => [m.step, m.reward_mean, m.entropy, m.pg_loss, m.grad_norm]);

    let kills = 0;
    for (const seed of [1, 2, 3]) {
      const out = join(dir, `run-${seed}`), next = rng(seed);
      let finished = false;
      for (let attempt = 0; attempt < 2 && !finished; attempt++) {
        const args = ["--config", config, "--out", out, ...(holdsRun(out) ? ["--resume"] : [])];
        const r = await trainOnce(args, next() * base.trainMs);
        if (r.code === 0) finished = true;
        else {
          expect(r.code, r.stderr).toBeNull(); // killed, never a failure of its own
          kills++;
        }
      }
      if (!finished) {
        const r = await trainOnce(["--config", config, "--out", out, ...(holdsRun(out) ? ["--resume"] : [])], null);
        expect(r.code, r.stderr).toBe(0);
      }
      const got = finalFiles(out);
      expect(got.model.equals(want.model), `seed ${seed}: model.safetensors`).toBe(true);
      expect(got.optimizer.equals(want.optimizer), `seed ${seed}: optimizer.safetensors`).toBe(true);
      expect(readMetrics(join(out, "metrics.jsonl")).map((m) => [m.step, m.reward_mean, m.entropy, m.pg_loss, m.grad_norm])).toEqual(wantMetrics);
      expect(existsSync(join(out, "rlvr.lock"))).toBe(false);
    }
    expect(kills).toBeGreaterThan(0);
  });
});
