// Gold answers of the evaluation sets in ../shared/datasets (never copied into the repo).
// Field names differ per benchmark, so each is mapped explicitly.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetReadObjects } from "hyparquet";
import { extractAnswer } from "./extract.js";

export interface GoldItem {
  source: string;
  index: number;
  gold: string;
}

/** RLVR_SHARED_DIR, else `shared/` beside the repository root; null when absent. */
export function sharedDir(): string | null {
  const fromEnv = process.env.RLVR_SHARED_DIR;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  const shared = resolve(dir, "..", "shared");
  return existsSync(shared) ? shared : null;
}

type Row = Record<string, unknown>;

function stripMath(s: string): string {
  return s.trim().replace(/^\$+|\$+$/g, "").trim();
}

/**
 * Where each benchmark of datasets/eval/<name>/test.jsonl keeps its fields. The single
 * mapping for the whole workspace: @rlvr/data's eval loader reads it too.
 */
export interface EvalFields {
  /** The field holding the problem statement. */
  problem: string;
  /** The field holding the gold answer. */
  answer: string;
  /**
   * How the gold is read from that field: `value` as-is (numbers are printed, 27.0 as 27);
   * `boxed-solution` the last \boxed{} of a worked solution; `list` the list's items,
   * stripped of `$`, joined with ", ".
   */
  answerKind: "value" | "boxed-solution" | "list";
  /** The field holding a stable id, when the benchmark has one (else the line number is the id). */
  id?: string;
}

export const EVAL_FIELDS: Readonly<Record<string, EvalFields>> = {
  aime24: { problem: "problem", answer: "answer", answerKind: "value", id: "id" },
  aime25: { problem: "problem", answer: "answer", answerKind: "value" },
  amc23: { problem: "problem", answer: "answer", answerKind: "value", id: "id" }, // a number: 27.0 is stored as 27
  math500: { problem: "problem", answer: "answer", answerKind: "value", id: "unique_id" },
  // Minerva keeps only the solution; its answer is the last \boxed{}.
  minerva_math: { problem: "problem", answer: "solution", answerKind: "boxed-solution", id: "idx" },
  olympiadbench: { problem: "question", answer: "final_answer", answerKind: "list", id: "id" },
};

/** The gold answer of one benchmark row; null when the row's answer field cannot give one. */
export function evalGold(fields: EvalFields, row: Row): string | null {
  const value = row[fields.answer];
  switch (fields.answerKind) {
    case "value":
      return value === undefined || value === null ? null : String(value);
    case "boxed-solution":
      return typeof value === "string" ? extractAnswer(value) : null;
    case "list":
      return Array.isArray(value) ? value.map((a) => stripMath(String(a))).join(", ") : null;
  }
}

export function loadEvalGolds(shared: string): GoldItem[] {
  const root = join(shared, "datasets", "eval");
  if (!existsSync(root)) return [];
  const items: GoldItem[] = [];
  for (const bench of readdirSync(root).sort()) {
    const file = join(root, bench, "test.jsonl");
    if (!existsSync(file)) continue;
    const fields = EVAL_FIELDS[bench];
    if (!fields) throw new Error(`no field mapping for benchmark ${bench}: add one to EVAL_FIELDS`);
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
    lines.forEach((line, index) => {
      const gold = evalGold(fields, JSON.parse(line) as Row);
      if (gold !== null) items.push({ source: `eval/${bench}`, index, gold });
    });
  }
  return items;
}

/** The verl-style parquet sets: the gold is reward_model.ground_truth. */
export async function loadParquetGolds(shared: string): Promise<GoldItem[]> {
  const root = join(shared, "datasets", "one-shot-rlvr");
  const items: GoldItem[] = [];
  for (const sub of ["train", "test"]) {
    const dir = join(root, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".parquet")).sort()) {
      const buf = readFileSync(join(dir, name));
      const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      const rows = (await parquetReadObjects({ file, columns: ["reward_model"] })) as Row[];
      rows.forEach((row, index) => {
        const rm = row.reward_model as { ground_truth?: unknown } | undefined;
        if (rm && typeof rm.ground_truth === "string") items.push({ source: `${sub}/${name}`, index, gold: rm.ground_truth });
      });
    }
  }
  return items;
}
