import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";

import { DEFAULT_TRAIN_PRESET, mathworldPresets } from "@rlvr/mathworld";
import { PRESETS, Progress, RUN_FILES, configToYaml, formatDuration, phaseSummary, registerPreset, resolveConfig, train, type ConfigInput } from "@rlvr/trainer";

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
    .option("--max-steps <n>", "stop after n steps in this invocation (resume later)", positiveInt)
    .action(async (o: TrainCliOptions) => {
      // resuming: the run's saved config is the base under the file and --set values
      let base: ConfigInput | undefined;
      if (o.resume && o.out && existsSync(join(o.out, RUN_FILES.config))) {
        base = JSON.parse(readFileSync(join(o.out, RUN_FILES.config), "utf8")) as ConfigInput;
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
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        progress.log("interrupt: stopping after this step (press Ctrl-C again to quit now; the last checkpoint stays intact)");
        abort.abort();
      };
      process.on("SIGINT", onSigint);
      const t0 = Date.now();
      try {
        const r = await train({
          config, resume: o.resume === true, signal: abort.signal, ...(o.maxSteps ? { maxStepsThisRun: o.maxSteps } : {}),
          onEvent: (e) => {
            if (e.type === "log") progress.log(e.message);
            else if (e.type === "start") progress.log(`run ${e.runDir}: steps ${e.firstStep}..${e.totalSteps}`);
            else if (e.type === "step") progress.step(e.metrics, e.stepSeconds);
            else if (e.type === "eval") evals.push(e), progress.log(`eval @ step ${e.step}: ${Object.entries(e.results).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(", ")}`);
            else if (e.type === "checkpoint") progress.log(`checkpoint: ${e.dir}`);
          },
        });
        progress.done();
        process.stderr.write(`done: step ${r.lastStep} in ${formatDuration((Date.now() - t0) / 1000)}; metrics in ${join(r.runDir, RUN_FILES.metrics)}\n`);
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
      } finally {
        progress.done();
        process.off("SIGINT", onSigint);
      }
    });
}
