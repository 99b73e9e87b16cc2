import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";

import { DEFAULT_TRAIN_PRESET, mathworldPresets } from "@rlvr/mathworld";
import {
  DivergenceError, PRESETS, Progress, RUN_FILES, configToYaml, formatDuration, phaseSummary, readRunConfig, registerPreset, resolveConfig, train,
  type ConfigInput,
} from "@rlvr/trainer";

import { EXIT } from "../exitCodes.js";
import { SIGNAL_EXIT, installStopSignals, type StopSignal } from "../stopSignals.js";

/**
 * Exit codes of `rlvr train` (exitCodes.ts): 0 the run reached trainer.totalSteps, or stopped at
 * --max-steps (a stop that was asked for, with a checkpoint to --resume from); 1 an error; 2 a
 * usage error (bad option or config key); 3 the divergence guard stopped the run; 130
 * interrupted (SIGINT, Ctrl-C); 143 terminated (SIGTERM). Every stop but a crash or a second
 * signal ends with a checkpoint of the last finished step.
 */
export const TRAIN_EXIT = { done: EXIT.ok, error: EXIT.failure, usage: EXIT.usage, diverged: EXIT.diverged, sigint: EXIT.sigint, sigterm: EXIT.sigterm } as const;

// the built-in math world's presets (mathworld-1shot is the default of a bare `rlvr train`)
for (const [name, preset] of Object.entries(mathworldPresets())) registerPreset(name, preset);

interface TrainCliOptions {
  config?: string;
  set: string[];
  preset?: string;
  printConfig?: boolean;
  resume?: boolean;
  out?: string;
  maxSteps?: number;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
};

export function trainCommand(): Command {
  return new Command("train")
    .description(
      `RLVR training (GRPO, or PPO with a critic: --preset ppo) on the rlvr engine; defaults are the paper's 1-shot recipe. With no --config and no --preset: ` +
        `the built-in ${DEFAULT_TRAIN_PRESET} preset (1-shot RLVR of the tiny math-world base model on CPU, out dir runs/${DEFAULT_TRAIN_PRESET}-<time>)`,
    )
    .option("--config <file>", "config file (.json, .yaml or .yml)")
    .option("--set <key=value>", "override a config key, e.g. --set actor.lr=1e-6 (repeatable)", collect, [])
    .option("--preset <name>", `start from a preset: ${Object.keys(PRESETS).join(", ")}`)
    .option("--print-config", "print the resolved config (every default filled in) and exit")
    .option("--resume", "continue the run in --out from its last good checkpoint")
    .option("--out <dir>", "run folder (metrics.jsonl, checkpoints/, acc_history.json); sets trainer.outDir")
    .option("--max-steps <n>", "stop after n steps in this invocation, with a checkpoint of the last one (exit 0; continue with --resume)", positiveInt)
    .addHelpText(
      "after",
      "\nStops: --max-steps, Ctrl-C (SIGINT) and SIGTERM end with a checkpoint of the last finished step; a second signal exits at once.\n" +
        "Exit codes: 0 finished (trainer.totalSteps) or stopped at --max-steps; 1 error; 3 diverged (the guard.* checks; nothing of the\n" +
        "failing step is saved); 130 interrupted (SIGINT); 143 terminated (SIGTERM). The run folder is locked (rlvr.lock) while a trainer owns it.",
    )
    .action(async (o: TrainCliOptions) => {
      // resuming: the run's saved config is the base under the file and --set values
      if (o.resume && !o.out) {
        throw new InvalidArgumentError("--resume needs --out <run folder>: the folder of the run to continue (e.g. rlvr train --resume --out runs/pi1)");
      }
      let base: ConfigInput | undefined;
      if (o.resume && o.out) {
        if (!existsSync(o.out)) {
          throw new InvalidArgumentError(`--resume: ${resolve(o.out)} does not exist: check the --out path (leave out --resume to start a new run there)`);
        }
        base = readRunConfig(o.out) ?? undefined;
      }
      // no config file, no preset, nothing to resume: the built-in preset, in a fresh run folder
      const builtIn = !o.config && !o.preset && !base && !o.set.some((s) => /^\s*preset\s*=/.test(s));
      const preset = o.preset ?? (builtIn ? DEFAULT_TRAIN_PRESET : undefined);
      const out = o.out ?? (builtIn && !o.resume ? join("runs", `${DEFAULT_TRAIN_PRESET}-${new Date().toISOString().replace(/[:.]/g, "-")}`) : undefined);
      const sets = [...(preset ? [`preset=${preset}`] : []), ...o.set, ...(out ? [`trainer.outDir=${JSON.stringify(resolve(out))}`] : [])];
      const config = resolveConfig({ ...(o.config ? { file: o.config } : {}), sets, ...(base ? { base } : {}) });
      if (o.printConfig) {
        process.stdout.write(configToYaml(config));
        return;
      }
      if (builtIn) process.stderr.write(`preset ${DEFAULT_TRAIN_PRESET} (no --config given): model ${config.model.path}, data ${config.data.train}; outputs in ${config.trainer.outDir}\n`);
      const progress = new Progress(process.stderr, config.trainer.totalSteps, 1);
      const evals: { step: number; results: Record<string, number> }[] = [];
      // the first SIGINT/SIGTERM lets the step in progress finish, then saves a checkpoint of it
      // and exits 130/143; a second one exits at once
      const stop = installStopSignals({
        onFirst: (sig) =>
          progress.log(`${sig}: finishing the current step, then saving a checkpoint and stopping (${sig === "SIGINT" ? "Ctrl-C" : "the signal"} again quits at once)`),
        onSecond: (sig) => {
          progress.done();
          process.stderr.write(`${sig} again: exiting now (the last checkpoint on disk stays intact)\n`);
        },
      });
      const abort = { signal: stop.signal };
      const t0 = Date.now();
      try {
        const r = await train({
          config, resume: o.resume === true, signal: abort.signal, ...(o.maxSteps ? { maxStepsThisRun: o.maxSteps } : {}),
          onEvent: (e) => {
            if (e.type === "log") progress.log(e.message);
            else if (e.type === "start") progress.log(`run ${e.runDir}: steps ${e.firstStep}..${e.totalSteps}`);
            else if (e.type === "step") progress.step(e.metrics, e.stepSeconds);
            else if (e.type === "progress") progress.inStep(e);
            else if (e.type === "eval") evals.push(e), progress.log(`eval @ step ${e.step}: ${Object.entries(e.results).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(", ")}`);
            else if (e.type === "checkpoint") progress.log(`checkpoint: ${e.dir}`);
          },
        });
        progress.done();
        const took = formatDuration((Date.now() - t0) / 1000);
        if (r.stopReason === "completed") process.stderr.write(`done: step ${r.lastStep} in ${took}; metrics in ${join(r.runDir, RUN_FILES.metrics)}\n`);
        else {
          const why = r.stopReason === "max-steps" ? `--max-steps ${o.maxSteps}` : String(abort.signal.reason ?? "interrupted");
          process.stderr.write(
            `stopped (${why}) at step ${r.lastStep} of ${config.trainer.totalSteps} after ${took}; ` +
              (r.checkpoint ? `checkpoint ${r.checkpoint}; continue with: rlvr train --resume --out ${r.runDir}\n` : `no step finished, nothing to save\n`),
          );
        }
        const phases = phaseSummary(r.metrics);
        if (phases) process.stderr.write(`${phases.text}\n`);
        const first = evals[0], last = evals.at(-1);
        if (first && last && last !== first) {
          const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${(x * 100).toFixed(1)}%`);
          for (const bench of Object.keys(last.results)) {
            process.stderr.write(`test accuracy ${bench}: before ${pct(first.results[bench])} (step ${first.step}) -> after ${pct(last.results[bench])} (step ${last.step})\n`);
          }
        }
        if (r.lastStep === config.trainer.totalSteps) {
          process.stderr.write(`final model: ${join(r.runDir, "checkpoints", `step-${String(r.lastStep).padStart(6, "0")}`, "model")}\n`);
        }
        for (const hint of r.viewHints) process.stderr.write(`view: ${hint}\n`);
        if (r.stopReason === "interrupted") process.exitCode = SIGNAL_EXIT[(abort.signal.reason as StopSignal | undefined) ?? "SIGINT"];
      } catch (e) {
        if (e instanceof DivergenceError) {
          progress.done();
          process.stderr.write(`rlvr: ${e.message}\n`);
          process.exitCode = TRAIN_EXIT.diverged;
          return;
        }
        throw e;
      } finally {
        progress.done();
        stop.dispose();
      }
    });
}
