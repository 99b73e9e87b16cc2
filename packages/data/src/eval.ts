// The six evaluation benchmarks (spec section 7) in one common shape.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EVAL_FIELDS, evalGold, type EvalFields } from "@rlvr/verifier/datasets";
import { readRegularFile } from "./readInput.js";
import { DataError, jsonlLines, parseJsonLine } from "./files.js";
import { requireSharedPath } from "./shared.js";

export { EVAL_FIELDS, type EvalFields };

/**
 * Benchmarks beyond the paper's six that `loadEvalBenchmark` also reads (always with an explicit
 * file): `mathworld` is the built-in math world's test split as `{id, problem, answer}` lines
 * (@rlvr/mathworld's data/test.jsonl). Decoded greedily (the trainer's default protocol).
 */
export const EXTRA_EVAL_FIELDS: Readonly<Record<string, EvalFields>> = {
  mathworld: { problem: "problem", answer: "answer", answerKind: "value", id: "id" },
};

/** The paper's six benchmarks, in its order. */
export const EVAL_BENCHMARKS = ["math500", "aime24", "amc23", "minerva_math", "olympiadbench", "aime25"] as const;
export type EvalBenchmark = (typeof EVAL_BENCHMARKS)[number];

/** How each benchmark is decoded (spec section 7): greedy pass@1, or avg@8 at temperature 0.6. */
export const EVAL_PROTOCOL: Readonly<Record<EvalBenchmark, { temperature: number; topP: number; samples: number }>> = {
  math500: { temperature: 0, topP: 1, samples: 1 },
  minerva_math: { temperature: 0, topP: 1, samples: 1 },
  olympiadbench: { temperature: 0, topP: 1, samples: 1 },
  aime24: { temperature: 0.6, topP: 1, samples: 8 },
  aime25: { temperature: 0.6, topP: 1, samples: 8 },
  amc23: { temperature: 0.6, topP: 1, samples: 8 },
};

export interface EvalExample {
  /** The benchmark's own id when it has one (as a string), else the 0-based line number. */
  id: string;
  problem: string;
  /** The gold answer, read per EVAL_FIELDS. */
  answer: string;
  /** The benchmark name, e.g. "math500". */
  source: string;
  /** MATH's subject ("Algebra", "Geometry", ...) when the row has one (math500), for the per-subject breakdown. */
  subject?: string;
  /** MATH's difficulty level 1..5 when the row has one (math500). */
  level?: number;
}

/**
 * Reads a benchmark's test.jsonl into EvalExamples. `name` picks the field mapping; `file`
 * defaults to <shared>/datasets/eval/<name>/test.jsonl. Errors name the file, the line and
 * the missing field.
 */
export function loadEvalBenchmark(name: string, file?: string): EvalExample[] {
  const fields = EVAL_FIELDS[name] ?? EXTRA_EVAL_FIELDS[name];
  if (!fields) throw new DataError(`unknown benchmark "${name}": known are ${[...Object.keys(EVAL_FIELDS), ...Object.keys(EXTRA_EVAL_FIELDS)].join(", ")}`);
  const path = file ?? requireSharedPath("datasets", "eval", name, "test.jsonl");
  if (!existsSync(path)) throw new DataError(`${path}: benchmark file not found`);
  return jsonlLines(readRegularFile(path, "utf8")).map(({ line, text }, i) => {
    const row = parseJsonLine(path, line, text);
    if (typeof row !== "object" || row === null || Array.isArray(row)) throw new DataError(`${path}:${line}: expected a JSON object`);
    const obj = row as Record<string, unknown>;
    const problem = obj[fields.problem];
    if (typeof problem !== "string" || problem.trim() === "") {
      throw new DataError(`${path}:${line}: missing field "${fields.problem}" (the ${name} problem statement)`);
    }
    const answer = evalGold(fields, obj);
    if (answer === null || answer === "") {
      const why = obj[fields.answer] === undefined ? "missing field" : `no ${fields.answerKind} answer in field`;
      throw new DataError(`${path}:${line}: ${why} "${fields.answer}" (the ${name} gold answer)`);
    }
    const rawId = fields.id === undefined ? undefined : obj[fields.id];
    const id = rawId === undefined || rawId === null ? String(i) : String(rawId);
    return { id, problem, answer, source: name, ...subjectAndLevel(obj) };
  });
}

/** MATH's "subject" and "level" fields (math500 rows carry both), when present and well formed. */
function subjectAndLevel(obj: Record<string, unknown>): { subject?: string; level?: number } {
  const out: { subject?: string; level?: number } = {};
  if (typeof obj.subject === "string" && obj.subject.trim() !== "") out.subject = obj.subject;
  const level = typeof obj.level === "string" ? Number(obj.level.replace(/^Level\s*/i, "")) : obj.level;
  if (typeof level === "number" && Number.isInteger(level)) out.level = level;
  return out;
}

/** Loads several benchmarks from a folder laid out as <dir>/<name>/test.jsonl (default: the shared one). */
export function loadEvalSuite(names: readonly string[] = EVAL_BENCHMARKS, dir?: string): Record<string, EvalExample[]> {
  const out: Record<string, EvalExample[]> = {};
  for (const name of names) out[name] = loadEvalBenchmark(name, dir === undefined ? undefined : join(dir, name, "test.jsonl"));
  return out;
}

/** One group of a benchmark breakdown (a MATH500 subject or level). */
export interface BreakdownRow {
  /** Problems in the group. */
  n: number;
  /** Mean of the problems' scores (correct samples / samples), in [0, 1]. */
  accuracy: number;
}

/** MATH500 by subject and by difficulty level (the paper's cross-domain analysis), as eval.json holds it. */
export interface SubjectLevelBreakdown {
  /** Subject name → its row, subjects in alphabetical order. */
  bySubject: Record<string, BreakdownRow>;
  /** Level ("1".."5") → its row, in level order. */
  byLevel: Record<string, BreakdownRow>;
}
