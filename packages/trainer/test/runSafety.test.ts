// Run safety: early stops that save, the run-folder lock, resume past damaged checkpoints and
// the run files' integrity (issue #17).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { readMetrics, type StepMetrics } from "@rlvr/data";
import { loadModelDir } from "@rlvr/model";

import { ConfigError, LOCK_FILE, RunFileError, RunLockedError, findLatestCheckpoint, fsErrorMessage, train, withPath, type TrainerEvent } from "../src/index.js";
import { parityReward, tempDir, tinyConfig, tinyData, tinyModelDir } from "./helpers.js";

const DETERMINISTIC = ["step", "epoch", "reward_mean", "train_acc", "entropy", "kl", "pg_loss", "grad_norm", "kl_loss", "entropy_loss"] as const;
const pick = (m: StepMetrics) => Object.fromEntries(DETERMINISTIC.map((k) => [k, m[k]]));

async function setup(extra: Record<string, unknown> = {}) {
  const [model, data] = [await tinyModelDir(), await tinyData()];
  const config = tinyConfig(model, data, { trainer: { totalSteps: 4, testFreq: 0, saveFreq: 2 }, eval: { beforeTrain: false }, ...extra });
  return { model, data, config, dir: await tempDir() };
}

async function finalWeights(runDir: string) {
  return (await loadModelDir(findLatestCheckpoint(runDir)!.modelDir)).weights!;
}

async function expectSameWeights(a: string, b: string) {
  const wa = await finalWeights(a), wb = await finalWeights(b);
  for (const [name, t] of wa) expect(Buffer.from(wb.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
}

const checkpoints = (run: string) => (existsSync(join(run, "checkpoints")) ? readdirSync(join(run, "checkpoints")).filter((n) => n.startsWith("step-")).sort() : []);

/** The pid of a process that has exited (for a stale lock). */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => p.on("exit", r));
  return p.pid!;
}

describe("early stops save a checkpoint of the last finished step", () => {
  it("--max-steps 3 with saveFreq 4 leaves step-000003 (the issue's case), and resume continues from it", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 6, saveFreq: 4, testFreq: 0 } });
    const run = join(dir, "d1");
    const r = await train({ config, outDir: run, reward: parityReward, maxStepsThisRun: 3 });
    expect(r.stopReason).toBe("max-steps");
    expect(checkpoints(run)).toEqual(["step-000003"]);
    const again = await train({ config, outDir: run, reward: parityReward, resume: true });
    expect(again.metrics.map((m) => m.step)).toEqual([4, 5, 6]);
    expect(again.stopReason).toBe("completed");
  });

  it("an abort during the rollout finishes that step and saves it, and the resumed run is bit-identical", async () => {
    const { config, dir } = await setup();
    const full = join(dir, "full"), split = join(dir, "split");
    await train({ config, outDir: full, reward: parityReward });
    const abort = new AbortController();
    const onEvent = (e: TrainerEvent) => {
      if (e.type === "phase" && e.step === 2 && e.phase === "rollout") abort.abort("SIGINT");
    };
    const r = await train({ config, outDir: split, reward: parityReward, signal: abort.signal, onEvent });
    expect(r.stopReason).toBe("interrupted");
    expect(r.lastStep).toBe(2); // step 2 ran to its end
    expect(checkpoints(split)).toEqual(["step-000002"]);
    expect(findLatestCheckpoint(split)!.state).toMatchObject({ step: 2 });
    await train({ config, outDir: split, reward: parityReward, resume: true });
    const a = readMetrics(join(full, "metrics.jsonl")), b = readMetrics(join(split, "metrics.jsonl"));
    expect(b.map(pick)).toEqual(a.map(pick));
    await expectSameWeights(full, split);
  });

  it("an abort between the update's micro-batches finishes the step too", async () => {
    // 2 prompts x 4 samples, one mini-batch, micro-batches of 3: three forwardBackward calls per update
    const { config, dir } = await setup({ actor: { ppoMiniBatchSize: 2, microBatchSize: 3 } });
    const full = join(dir, "full"), split = join(dir, "split");
    await train({ config, outDir: full, reward: parityReward });
    const abort = new AbortController();
    const onEvent = (e: TrainerEvent) => {
      if (e.type === "phase" && e.step === 3 && e.phase === "update") abort.abort("SIGTERM");
    };
    const r = await train({ config, outDir: split, reward: parityReward, signal: abort.signal, onEvent });
    expect(r.stopReason).toBe("interrupted");
    expect(r.lastStep).toBe(3);
    expect(findLatestCheckpoint(split)!.state).toMatchObject({ step: 3, adamwSteps: 3 });
    await train({ config, outDir: split, reward: parityReward, resume: true });
    expect(readMetrics(join(split, "metrics.jsonl")).map(pick)).toEqual(readMetrics(join(full, "metrics.jsonl")).map(pick));
    await expectSameWeights(full, split);
  });
});

describe("the run folder lock", () => {
  it("a second trainer on the same folder fails naming the holder; the lock is released after the run", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 2, saveFreq: 0, testFreq: 0 } });
    const run = join(dir, "run");
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    const first = train({ config, outDir: run, reward: parityReward, onEvent: (e) => e.type === "start" && started() });
    await isStarted;
    const lock = JSON.parse(readFileSync(join(run, LOCK_FILE), "utf8")) as { pid: number; host: string };
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    const second = train({ config, outDir: run, reward: parityReward, resume: true });
    await expect(second).rejects.toBeInstanceOf(RunLockedError);
    await expect(second).rejects.toThrow(new RegExp(`in use by pid ${process.pid} on host ${hostname()}`));
    await first;
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
    // metrics of one trainer only
    expect(readMetrics(join(run, "metrics.jsonl")).map((m) => m.step)).toEqual([1, 2]);
  });

  it("a stale lock (its pid gone on this host) is taken over; a live one on another host is not", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 1, saveFreq: 0, testFreq: 0 } });
    const run = join(dir, "run");
    mkdirSync(run);
    writeFileSync(join(run, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: "2020-01-01T00:00:00Z", token: "x" }));
    const logs: string[] = [];
    await train({ config, outDir: run, reward: parityReward, onEvent: (e) => e.type === "log" && logs.push(e.message) });
    expect(logs.some((l) => /took over the lock/.test(l))).toBe(true);
    const other = join(dir, "other");
    mkdirSync(other);
    writeFileSync(join(other, LOCK_FILE), JSON.stringify({ pid: 1, host: "elsewhere", startedAt: "2020-01-01T00:00:00Z", token: "y" }));
    await expect(train({ config, outDir: other, reward: parityReward })).rejects.toThrow(/in use by pid 1 on host elsewhere.*delete .*rlvr\.lock/);
  });
});

describe("resume walks back past damaged checkpoints", () => {
  for (const victim of ["model/model.safetensors", "optimizer.safetensors"]) {
    it(`a truncated ${victim} in the newest checkpoint: resume from the previous one, bit-identical at the end`, async () => {
      const { config, dir } = await setup({ trainer: { totalSteps: 4, saveFreq: 1, testFreq: 0 } });
      const full = join(dir, "full"), split = join(dir, "split");
      await train({ config, outDir: full, reward: parityReward });
      await train({ config, outDir: split, reward: parityReward, maxStepsThisRun: 3 });
      const f = join(split, "checkpoints", "step-000003", victim);
      truncateSync(f, Math.floor(statSync(f).size / 2));
      // a crashed write's leftover: removed after the resume succeeds
      mkdirSync(join(split, "checkpoints", ".tmp-step-000004-deadbeef"));
      writeFileSync(join(split, "checkpoints", ".0123456789ab.tmp"), "half a pointer");
      const logs: string[] = [];
      const r = await train({ config, outDir: split, reward: parityReward, resume: true, onEvent: (e) => e.type === "log" && logs.push(e.message) });
      expect(logs.some((l) => /step-000003 is damaged .*has \d+ bytes, the manifest says/.test(l))).toBe(true);
      expect(r.resumedFrom).toMatch(/step-000002$/);
      expect(r.metrics.map((m) => m.step)).toEqual([3, 4]);
      expect(existsSync(join(split, "checkpoints", ".tmp-step-000004-deadbeef"))).toBe(false);
      expect(existsSync(join(split, "checkpoints", ".0123456789ab.tmp"))).toBe(false);
      // the redone step's old metrics line was moved aside, not deleted
      expect(readdirSync(split).some((n) => n.startsWith("metrics.after-step-2."))).toBe(true);
      await expectSameWeights(full, split);
    });
  }

  it("a flipped byte (same size) is caught by the SHA-256; with no intact checkpoint resume fails naming the files", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 2, saveFreq: 0, testFreq: 0 } });
    const run = join(dir, "run");
    await train({ config, outDir: run, reward: parityReward });
    const f = join(run, "checkpoints", "step-000002", "optimizer.safetensors");
    const bytes = readFileSync(f);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(f, bytes);
    await expect(train({ config, outDir: run, reward: parityReward, resume: true })).rejects.toThrow(
      /no intact checkpoint in .*checkpoints:\n.*optimizer\.safetensors does not match its SHA-256/,
    );
  });

  it("--resume on an empty folder is an error, not a silent fresh start", async () => {
    const { config, dir } = await setup();
    const empty = join(dir, "empty");
    mkdirSync(empty);
    await expect(train({ config, outDir: empty, reward: parityReward, resume: true })).rejects.toThrow(/holds no run to continue.*--out/);
    await expect(train({ config, outDir: join(dir, "missing"), reward: parityReward, resume: true })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("run files", () => {
  it("a planted metrics.jsonl symlink is refused, nothing is written through it", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 1, saveFreq: 0, testFreq: 0 } });
    const run = join(dir, "run"), outside = join(dir, "outside.jsonl");
    mkdirSync(run);
    writeFileSync(outside, "");
    symlinkSync(outside, join(run, "metrics.jsonl"));
    // it is a run folder now (metrics.jsonl exists), so only --resume gets as far as writing
    await expect(train({ config, outDir: run, reward: parityReward, resume: true })).rejects.toThrow(/metrics\.jsonl is a symbolic link/);
    expect(readFileSync(outside, "utf8")).toBe("");
  });

  it("a corrupt middle line of metrics.jsonl fails the resume loudly; a torn last line is moved aside", async () => {
    const { config, dir } = await setup({ trainer: { totalSteps: 3, saveFreq: 1, testFreq: 0 } });
    const run = join(dir, "run");
    await train({ config, outDir: run, reward: parityReward, maxStepsThisRun: 2 });
    const path = join(run, "metrics.jsonl");
    const good = readFileSync(path, "utf8");
    writeFileSync(path, good + '{"step": 3, "torn');
    const r = await train({ config, outDir: run, reward: parityReward, resume: true });
    expect(r.metrics.map((m) => m.step)).toEqual([3]);
    expect(readdirSync(run).some((n) => n.startsWith("metrics.after-step-2."))).toBe(true);
    const lines = readFileSync(path, "utf8").trim().split("\n");
    lines[1] = "{ garbage";
    writeFileSync(path, `${lines.join("\n")}\n`);
    const err = await train({ config, outDir: run, reward: parityReward, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFileError);
    expect((err as Error).message).toMatch(/metrics\.jsonl:2: not valid JSON, and not the last line/);
    expect(readFileSync(path, "utf8")).toContain("{ garbage"); // nothing moved away
  });

  it("data.maxResponseLength beyond the model's context names the key and the limit", async () => {
    const { config, dir } = await setup({ data: { maxResponseLength: 100 } });
    await expect(train({ config, outDir: join(dir, "run"), reward: parityReward })).rejects.toThrow(
      /config key "data.maxResponseLength": 100 new tokens after the longest prompt \(\d+ tokens\) exceed the model's max_position_embeddings \(64, in .*config\.json\): set data.maxResponseLength <= \d+/,
    );
  });
});

describe("file-system errors name the path and the fix", () => {
  const err = (code: string, path?: string) => Object.assign(new Error(`${code}: something`), { code, ...(path ? { path } : {}) });
  it("ENOSPC, read-only, permission", () => {
    expect(fsErrorMessage(err("ENOSPC"), "/r/checkpoints/step-000002", "write checkpoint")).toBe(
      "cannot write checkpoint /r/checkpoints/step-000002: no space left on the device (ENOSPC); free some space or choose another --out",
    );
    expect(fsErrorMessage(err("EROFS", "/r/.x.tmp"), "/r/config.json", "write")).toMatch(/^cannot write \/r\/config.json \(at \/r\/.x.tmp\): the file system is read-only \(EROFS\); choose a writable --out$/);
    expect(fsErrorMessage(err("EACCES"), "/r", "create the run folder")).toMatch(/permission denied \(EACCES\); choose a folder you can write to with --out/);
  });

  it("withPath turns fs errors into RunFileError and passes the others through", () => {
    const e = (() => {
      try {
        return withPath("/r/metrics.jsonl", "append to", () => {
          throw err("ENOSPC");
        });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(RunFileError);
    expect((e as RunFileError).message).toMatch(/^cannot append to \/r\/metrics.jsonl: no space left/);
    expect(() => withPath("/r", "x", () => {
      throw new TypeError("not fs");
    })).toThrow(TypeError);
  });
});
