// The per-step metrics record the trainer appends to <run>/metrics.jsonl, and the
// per-example training-accuracy history (acc_step_500.json's shape).
import { appendFileSync, existsSync } from "node:fs";
import { z } from "zod";
import { DataError, jsonlLines, parseJsonLine, writeFileAtomic } from "./files.js";
import { readRegularFile } from "./readInput.js";
import { readAccuracyHistory } from "./selection.js";

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const nonNegative = finite.refine((x) => x >= 0, "must be >= 0");
const fraction = finite.refine((x) => x >= 0 && x <= 1, "must be in [0, 1]");

/** Seconds spent in each phase of one training step. */
export const PhaseSecondsSchema = z.object({
  rollout: nonNegative,
  reward: nonNegative,
  old_logp: nonNegative,
  ref_logp: nonNegative,
  update: nonNegative,
  /** PPO only: the critic's values of the rollouts, and the critic's update. */
  values: nonNegative.optional(),
  critic: nonNegative.optional(),
});

/**
 * One line of metrics.jsonl: one training step. Unknown extra keys are kept, so the trainer
 * can add fields without breaking older readers.
 */
export const StepMetricsSchema = z.looseObject({
  /** 1-based optimizer step. */
  step: z.number().int().min(1),
  /** Epoch over the training set (with pi1_r128 and batch 128, epoch == step). */
  epoch: z.number().int().min(0),
  /** Wall-clock seconds since the run started, at the end of this step. */
  time: nonNegative,
  /** Mean scalar reward over the step's responses (with the format reward it can differ from train_acc). */
  reward_mean: finite,
  /** Fraction of the step's responses whose answer was correct. */
  train_acc: fraction,
  /** Mean token entropy of the responses (nats), over the response mask. */
  entropy: nonNegative,
  /** Mean response length in tokens. */
  response_length_mean: nonNegative,
  /** Mean KL to the reference model (the configured estimator; 0 when KL is off). */
  kl: finite,
  /** Share of response tokens where the PPO clip was active. */
  clip_frac: fraction,
  pg_loss: finite,
  /** Gradient norm before clipping. */
  grad_norm: nonNegative,
  lr: nonNegative,
  /** Generated tokens per second during the rollout phase. */
  tokens_per_s: nonNegative,
  phase_s: PhaseSecondsSchema,
  /** model.backend cuda: the most device memory rlvr held in each phase of the step (GiB). */
  device_peak_gib: z.record(z.string(), nonNegative).optional(),
  /** Test accuracy in [0, 1] per benchmark, on steps that ran an evaluation. */
  test: z.record(z.string(), fraction).optional(),
  /** Self-reflection word counts over the step's responses. */
  reflection: z.record(z.string(), z.number().int().min(0)).optional(),
});

export type PhaseSeconds = z.infer<typeof PhaseSecondsSchema>;
export type StepMetrics = z.infer<typeof StepMetricsSchema>;

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const field = i.path.map(String).join(".") || "(record)";
      const missing = i.code === "invalid_type" && /received undefined/.test(i.message);
      return missing ? `missing field "${field}"` : `field "${field}": ${i.message}`;
    })
    .join("; ");
}

/** Validates one metrics record; `where` names it in the error (e.g. "metrics.jsonl:12"). */
export function parseStepMetrics(value: unknown, where = "metrics"): StepMetrics {
  const result = StepMetricsSchema.safeParse(value);
  if (!result.success) throw new DataError(`${where}: ${formatIssues(result.error)}`);
  return result.data;
}

/** Parses a metrics.jsonl text line by line; errors name the file and line. */
export function parseMetricsJsonl(text: string, where = "metrics.jsonl"): StepMetrics[] {
  return jsonlLines(text).map(({ line, text: t }) => parseStepMetrics(parseJsonLine(where, line, t), `${where}:${line}`));
}

/** Reads and validates a metrics.jsonl file. */
export function readMetrics(path: string): StepMetrics[] {
  if (!existsSync(path)) throw new DataError(`${path}: metrics file not found`);
  return parseMetricsJsonl(readRegularFile(path, "utf8"), path);
}

/** Validates a record and appends it to metrics.jsonl as one line. */
export function appendMetrics(path: string, record: StepMetrics): void {
  const valid = parseStepMetrics(record, `metrics record for step ${String(record.step)}`);
  appendFileSync(path, `${JSON.stringify(valid)}\n`);
}

/**
 * Records each example's training accuracy (the fraction of its n rollouts rewarded 1) per
 * epoch, and writes it in acc_step_500.json's shape: {"<index>": [acc, ...], ...}, keys in
 * the order examples were first seen.
 */
export class AccuracyHistory {
  readonly #history = new Map<string, number[]>();

  constructor(initial?: ReadonlyMap<string, readonly number[]>) {
    for (const [k, v] of initial ?? []) this.#history.set(k, [...v]);
  }

  /** Reads a history file to continue it. */
  static read(path: string): AccuracyHistory {
    return new AccuracyHistory(readAccuracyHistory(path));
  }

  /** Appends one epoch's accuracy of example `index`. */
  record(index: number, accuracy: number): void {
    if (!Number.isSafeInteger(index) || index < 0) throw new DataError(`example index must be a non-negative integer, got ${index}`);
    if (!(accuracy >= 0 && accuracy <= 1)) throw new DataError(`accuracy of example ${index} must be in [0, 1], got ${accuracy}`);
    const key = String(index);
    const list = this.#history.get(key);
    if (list) list.push(accuracy);
    else this.#history.set(key, [accuracy]);
  }

  /** Records the accuracies of one step from per-response rewards grouped by example index. */
  recordRewards(indices: readonly number[], correct: readonly boolean[]): void {
    if (indices.length !== correct.length) throw new DataError(`${indices.length} indices but ${correct.length} rewards`);
    const byIndex = new Map<number, { right: number; all: number }>();
    indices.forEach((index, i) => {
      const c = byIndex.get(index) ?? { right: 0, all: 0 };
      c.all++;
      if (correct[i]) c.right++;
      byIndex.set(index, c);
    });
    for (const [index, c] of byIndex) this.record(index, c.right / c.all);
  }

  get(index: number): readonly number[] | undefined {
    return this.#history.get(String(index));
  }

  toMap(): Map<string, number[]> {
    return new Map([...this.#history].map(([k, v]) => [k, [...v]]));
  }

  /** The JSON text, 4-space indented like the authors' file. */
  toText(): string {
    const body = [...this.#history].map(([k, v]) => `    ${JSON.stringify(k)}: [${v.map((x) => `\n        ${formatAccuracy(x)}`).join(",")}\n    ]`);
    return `{\n${body.join(",\n")}\n}\n`;
  }

  /** Writes the file atomically. */
  write(path: string): void {
    writeFileAtomic(path, this.toText());
  }
}

/** Python's float repr for the common cases: 0.0 and 1.0 keep their ".0". */
function formatAccuracy(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}
