// The run's loggers by name (trainer.loggers): console progress is the CLI's, metrics.jsonl is
// always written (resume and `rlvr report` read it); "tensorboard" writes event files under
// <run>/tensorboard with verl's metric names; "wandb" writes the same files for `wandb sync`
// (no maintained Weights & Biases client for Node exists to log directly).
import { join } from "node:path";

import { verlNamedScalars } from "./metricNames.js";
import { rolloutsMarkdown, savesRollouts, writeRolloutLog, type RolloutRecord } from "./rolloutLog.js";
import { TensorBoardWriter } from "./tfEvents.js";

export const LOGGER_NAMES = ["console", "jsonl", "tensorboard", "wandb"] as const;
export type LoggerName = (typeof LOGGER_NAMES)[number];
export const TENSORBOARD_DIR = "tensorboard";

export interface RunLoggerOptions {
  loggers: readonly LoggerName[];
  project: string;
  experiment: string;
  /** Save rollouts every this many steps (0: never); the last step always when on. */
  rolloutsFreq: number;
  totalSteps: number;
  /** The step a resumed run continues after (TensorBoard then drops later steps of the old attempt). */
  resumeStep?: number;
}

export class RunLoggers {
  readonly tensorboardDir: string | null;
  #tb: TensorBoardWriter | null;

  constructor(readonly runDir: string, readonly options: RunLoggerOptions) {
    const tb = options.loggers.includes("tensorboard") || options.loggers.includes("wandb");
    this.tensorboardDir = tb ? join(runDir, TENSORBOARD_DIR) : null;
    this.#tb = tb ? new TensorBoardWriter(this.tensorboardDir!, options.resumeStep !== undefined ? { resumeStep: options.resumeStep } : {}) : null;
    if (this.#tb && options.resumeStep === undefined) {
      this.#tb.text(0, "run", `project **${options.project}**, experiment **${options.experiment}**, run folder \`${runDir}\``);
    }
  }

  /** One step's metrics record (the metrics.jsonl line), as verl-named scalars. */
  step(record: Readonly<Record<string, unknown>> & { step: number }): void {
    this.#tb?.scalars(record.step, verlNamedScalars(record));
  }

  /** Test accuracies of an evaluation (step 0: before training). */
  eval(step: number, results: Readonly<Record<string, number>>): void {
    this.#tb?.scalars(step, Object.entries(results).map(([bench, acc]) => ({ tag: `val/test_score/${bench}`, value: acc })));
  }

  /** Whether this step's rollouts are wanted (so the trainer builds the records only then). */
  wantsRollouts(step: number): boolean {
    return savesRollouts(step, this.options.rolloutsFreq, this.options.totalSteps);
  }

  /** Saves a step's rollouts (rollouts/step-NNNNNN.jsonl) and shows a few in TensorBoard's Text tab. */
  rollouts(step: number, records: readonly RolloutRecord[]): string {
    const path = writeRolloutLog(this.runDir, step, records);
    this.#tb?.text(step, "rollouts", rolloutsMarkdown(records));
    return path;
  }

  /** Makes the event file durable (at checkpoints). */
  flush(): void {
    this.#tb?.flush();
  }

  close(): void {
    this.#tb?.close();
    this.#tb = null;
  }

  /** What to run to view the run, for the end-of-run message. */
  viewHints(): string[] {
    if (!this.tensorboardDir) return [];
    const hints = [`tensorboard --logdir ${this.tensorboardDir}`];
    if (this.options.loggers.includes("wandb")) {
      hints.push(`wandb sync --sync-tensorboard --project ${this.options.project} --id ${this.options.experiment} ${this.tensorboardDir}`);
    }
    return hints;
  }
}
