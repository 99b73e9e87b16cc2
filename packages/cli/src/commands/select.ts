import { Command } from "commander";

import {
  buildKShotSet,
  readAccuracyHistory,
  readVerlDataset,
  selectExamples,
  writeVerlDataset,
  type RankedExample,
  type SelectionMethod,
} from "@rlvr/data";

export interface SelectFlags {
  history: string;
  method: string;
  top?: string;
  seed?: string;
  json?: boolean;
  dataset?: string;
  repeat?: string;
  output?: string;
}

export interface SelectResult {
  ranking: RankedExample[];
  /** The training set written, when --dataset/--repeat/--output were given. */
  written?: { path: string; rows: number; indices: number[] };
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

/** What `rlvr select` does, without printing: rank, and optionally write the training set. */
export async function runSelect(flags: SelectFlags): Promise<SelectResult> {
  if (flags.method !== "std" && flags.method !== "random") throw new Error(`--method must be std or random, got "${flags.method}"`);
  const method: SelectionMethod = flags.method;
  const top = flags.top === undefined ? undefined : positiveInt("top", flags.top);
  const seed = flags.seed === undefined ? 0 : Number(flags.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${flags.seed}"`);
  const writing = [flags.dataset, flags.repeat, flags.output];
  if (writing.some((f) => f !== undefined) && writing.some((f) => f === undefined)) {
    throw new Error("--dataset, --repeat and --output go together");
  }
  if (flags.dataset !== undefined && top === undefined) throw new Error("--dataset needs --top K: the training set is the top K examples");
  for (const path of [flags.dataset, flags.output]) {
    if (path !== undefined && !/\.(parquet|jsonl)$/.test(path)) throw new Error(`${path}: expected a .parquet or .jsonl file`);
  }
  const repeat = flags.repeat === undefined ? undefined : positiveInt("repeat", flags.repeat);

  const ranking = selectExamples(readAccuracyHistory(flags.history), { method, top, seed });
  if (flags.dataset === undefined) return { ranking };
  const pool = await readVerlDataset(flags.dataset);
  const indices = ranking.map((r) => r.index);
  const rows = buildKShotSet(pool, indices, { repeat: repeat! });
  writeVerlDataset(flags.output!, rows);
  return { ranking, written: { path: flags.output!, rows: rows.length, indices } };
}

/** The ranking as text: "rank index score", one example a line. */
export function formatRanking(ranking: readonly RankedExample[]): string {
  return ranking.map((r, i) => `${String(i + 1).padStart(5)}  ${String(r.index).padStart(6)}  ${r.score.toFixed(6)}`).join("\n");
}

/** `rlvr select`: ranks training examples by historical variance score (or randomly). */
export function selectCommand(): Command {
  return new Command("select")
    .description("rank training examples by historical variance score (or randomly) and optionally write a k-shot training set")
    .requiredOption("--history <file>", "per-example training-accuracy history JSON (acc_step_500.json's shape)")
    .requiredOption("--method <method>", "std (population std of the history, descending) or random")
    .option("--top <k>", "keep the top K examples (default: all)")
    .option("--seed <n>", "seed of the random method", "0")
    .option("--json", "print a JSON array of {index, score}")
    .option("--dataset <file>", "pool to take the chosen examples from (.parquet or .jsonl, verl rows)")
    .option("--repeat <r>", "copies of each chosen example in the training set")
    .option("--output <file>", "training set to write (.parquet or .jsonl)")
    .action(async (flags: SelectFlags) => {
      const result = await runSelect(flags);
      process.stdout.write(`${flags.json ? JSON.stringify(result.ranking) : `${"rank".padStart(5)}  ${"index".padStart(6)}  score\n${formatRanking(result.ranking)}`}\n`);
      if (result.written) {
        const { path, rows, indices } = result.written;
        process.stderr.write(`wrote ${rows} rows (examples ${indices.join(", ")}) to ${path}\n`);
      }
    });
}
