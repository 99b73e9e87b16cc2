// rlvr train's stops, exit codes, lock and argument checks (issue #17), on the built CLI.
import { spawn, execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

import { tinyModelDir } from "../../trainer/test/helpers.js";
import { tinyRunConfig } from "./helpers.js";
import { installStopSignals } from "../src/stopSignals.js";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const exec = promisify(execFile);

/** Runs the CLI to its end: exit code and output (never rejects). */
async function runCli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const r = await exec("node", [cli, ...args]);
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stderr: string; stdout: string };
    return { code: x.code, stderr: x.stderr, stdout: x.stdout };
  }
}

/** A running trainer: `waitFor(re)` resolves once its stderr matches; `sawStep` once it shows a finished step. */
function startTrainer(args: string[]) {
  const p = spawn("node", [cli, "train", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  p.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiting.filter((x) => x.re.test(stderr))) w.resolve();
  });
  const waitFor = (re: RegExp) => new Promise<void>((resolve) => (re.test(stderr) ? resolve() : waiting.push({ re, resolve })));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    p.on("exit", (code, signal) => r({ code, signal, stderr })),
  );
  return { p, sawStep: waitFor(/^step \d+\//m), waitFor, exited };
}

const setup = (totalSteps: number, saveFreq = 0) =>
  tinyRunConfig({
    actor: { lr: 1e-3, ppoMiniBatchSize: 2, microBatchSize: 2 }, eval: { beforeTrain: false }, trainer: { totalSteps, saveFreq, testFreq: 0 },
  });

const steps = (out: string) => (existsSync(join(out, "checkpoints")) ? readdirSync(join(out, "checkpoints")).filter((n) => n.startsWith("step-")) : []);

describe("rlvr train: stops and exit codes", () => {
  it("--max-steps saves the last step (saveFreq 4, the issue's case) and exits 0; --resume continues from it", async () => {
    const { config, out } = await setup(6, 4);
    const r = await runCli(["train", "--config", config, "--out", out, "--max-steps", "3"]);
    expect(r.code).toBe(0);
    expect(steps(out)).toEqual(["step-000003"]);
    expect(r.stderr).toMatch(/stopped \(--max-steps 3\) at step 3 of 6 .*checkpoint .*step-000003; continue with: rlvr train --resume --out/);
    const again = await runCli(["train", "--resume", "--out", out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming from .*step-000003 \(step 3\)/);
    expect(again.stderr).toMatch(/done: step 6/);
  });

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal}: stops with a checkpoint of the last finished step, exit ${code}; a concurrent trainer is refused meanwhile`, async () => {
      const { config, out } = await setup(100000); // never reaches its end here
      const t = startTrainer(["--config", config, "--out", out]);
      await t.sawStep;
      // the folder is locked while the first one runs
      const second = await runCli(["train", "--resume", "--out", out]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`run folder .* is in use by pid ${t.p.pid} on host`));
      t.p.kill(signal);
      const r = await t.exited;
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`stopped \\(${signal}\\) at step (\\d+) of 100000 .*checkpoint .*step-0*\\1;`));
      expect(steps(out).length).toBe(1);
      expect(existsSync(join(out, "rlvr.lock"))).toBe(false);
    });
  }

  it("a second SIGINT exits at once with 130 while the first one's stop still waits for work in progress", async () => {
    // the evaluation before training is not interruptible and decodes its (deterministic) greedy
    // answers for hundreds of tokens: the first signal's stop waits for it, the second does not
    const { config, out } = await tinyRunConfig({
      model: { max_position_embeddings: 1024, hidden_size: 128, intermediate_size: 256, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32 },
      actor: { lr: 1e-3, ppoMiniBatchSize: 2, microBatchSize: 2 },
      eval: { beforeTrain: true, maxNewTokens: 1000 },
      trainer: { totalSteps: 3, saveFreq: 0, testFreq: 0 },
    });
    const t = startTrainer(["--config", config, "--out", out]);
    await t.waitFor(/^run .*: steps 1\.\.3/m);
    t.p.kill("SIGINT");
    await t.waitFor(/SIGINT: finishing the current step/);
    t.p.kill("SIGINT");
    const r = await t.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT again: exiting now/);
    expect(r.stderr).not.toMatch(/stopped \(SIGINT\)/); // not the first signal's stop
    expect(steps(out)).toEqual([]);
    expect(existsSync(join(out, "rlvr.lock"))).toBe(false); // the exit listeners ran
  });

  it("a second signal exits at once with its code (the handlers, driven in-process)", () => {
    const events: string[] = [];
    const source = new EventEmitter();
    const stop = installStopSignals({ source, onFirst: (s) => events.push(`first ${s}`), onSecond: (s) => events.push(`second ${s}`), exit: (c) => events.push(`exit ${c}`) });
    try {
      source.emit("SIGINT");
      expect(stop.signal.aborted).toBe(true);
      expect(stop.signal.reason).toBe("SIGINT");
      expect(events).toEqual(["first SIGINT"]);
      source.emit("SIGINT");
      expect(events).toEqual(["first SIGINT", "second SIGINT", "exit 130"]);
    } finally {
      stop.dispose();
    }
    const term = installStopSignals({ source, onFirst: () => {}, exit: (c) => events.push(`exit ${c}`) });
    source.emit("SIGTERM");
    source.emit("SIGTERM");
    term.dispose();
    expect(events.at(-1)).toBe("exit 143");
  });

  it("divergence (actor.lr=3e38) exits 3 naming the cause; nothing diverged is saved", async () => {
    const { config, out } = await setup(3, 1);
    const r = await runCli(["train", "--config", config, "--out", out, "--set", "actor.lr=3e38"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/training diverged at step 1: after optimizer update 1 of the step: weight .* is (Infinity|-Infinity|NaN)/);
    expect(steps(out)).toEqual([]);
  });
});

describe("rlvr train: arguments and messages", () => {
  it("--resume needs an existing run in --out", async () => {
    const { dir } = await setup(2);
    const noOut = await runCli(["train", "--resume"]);
    expect(noOut.code).toBe(2); // a usage error
    expect(noOut.stderr).toMatch(/--resume needs --out <run folder>/);
    expect((await runCli(["train", "--resume", "--out", join(dir, "typo")])).stderr).toMatch(/typo does not exist: check the --out path/);
    mkdirSync(join(dir, "empty"));
    const r = await runCli(["train", "--resume", "--out", join(dir, "empty")]);
    expect(r.code).toBe(2); // a usage error: --out names no run
    expect(r.stderr).toMatch(/empty holds no run to continue/);
  });

  it("a corrupt run config.json is named; --set __proto__ is refused", async () => {
    const { config, out } = await setup(2);
    await runCli(["train", "--config", config, "--out", out, "--max-steps", "1"]);
    writeFileSync(join(out, "config.json"), "{ not json");
    const r = await runCli(["train", "--resume", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${join(out, "config.json")}: the run's saved config is not valid JSON`));
    const p = await runCli(["train", "--config", config, "--set", "__proto__.x=1", "--print-config"]);
    expect(p.code).toBe(2); // a usage error
    expect(p.stderr).toMatch(/"__proto__" is not a config key/);
  });

  it("generate -n beyond the limit fails at once naming the option", async () => {
    const model = await tinyModelDir();
    const r = await runCli(["generate", "--model", model, "--prompt", "1+1", "-n", "100000000"]);
    expect(r.code).toBe(2); // a usage error
    expect(r.stderr).toMatch(/-n 100000000: at most 100000 samples per call/);
    const t = await runCli(["generate", "--model", model, "--prompt", "1+1", "-n", "100000", "--max-tokens", "1000"]);
    expect(t.stderr).toMatch(/-n 100000 x --max-new-tokens 1000 = 100000000 tokens: at most 50000000/); // given as --max-tokens, the old name
  });
});
