import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";

import { PRESETS, Progress, RUN_FILES, configToYaml, formatDuration, resolveConfig, train, type ConfigInput } from "@rlvr/trainer";

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
    .description("RLVR training (GRPO) on the rlvr engine; defaults are the paper's 1-shot recipe")
    .option("--config <file>", "config file (.json, .yaml or .yml)")
    .option("--set <key=value>", "override a config key, e.g. --set actor.lr=1e-6 (repeatable)", collect, [])
    .option("--preset <name>", `start from a preset: ${Object.keys(PRESETS).join(", ")}`)
    .option("--print-config", "print the resolved config (every default filled in) and exit")
    .option("--resume", "continue the run in --out from its last good checkpoint")
    .option("--out <dir>", "run folder (metrics.jsonl, checkpoints/, acc_history.json); sets trainer.outDir")
    .option("--max-steps <n>", "stop after n steps in this invocation (resume later)", positiveInt)
    .action(async (o: TrainCliOptions) => {
      const sets = [...(o.preset ? [`preset=${o.preset}`] : []), ...o.set, ...(o.out ? [`trainer.outDir=${JSON.stringify(resolve(o.out))}`] : [])];
      // resuming: the run's saved config is the base under the file and --set values
      let base: ConfigInput | undefined;
      if (o.resume && o.out && existsSync(join(o.out, RUN_FILES.config))) {
        base = JSON.parse(readFileSync(join(o.out, RUN_FILES.config), "utf8")) as ConfigInput;
      }
      const config = resolveConfig({ ...(o.config ? { file: o.config } : {}), sets, ...(base ? { base } : {}) });
      if (o.printConfig) {
        process.stdout.write(configToYaml(config));
        return;
      }
      const progress = new Progress(process.stderr, config.trainer.totalSteps, 1);
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
            else if (e.type === "eval") progress.log(`eval @ step ${e.step}: ${Object.entries(e.results).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(", ")}`);
            else if (e.type === "checkpoint") progress.log(`checkpoint: ${e.dir}`);
          },
        });
        progress.done();
        process.stderr.write(`done: step ${r.lastStep} in ${formatDuration((Date.now() - t0) / 1000)}; metrics in ${join(r.runDir, RUN_FILES.metrics)}\n`);
      } finally {
        progress.done();
        process.off("SIGINT", onSigint);
      }
    });
}
