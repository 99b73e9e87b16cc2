// <run>/eval.jsonl: the trainer's test evaluations, one line per evaluation, the one before training
// (step 0) included: {"step": 0, "time": 1.2, "test": {"math500": 0.36}}.
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { DataError, jsonlLines } from "@rlvr/data";
import type { EvalPoint } from "./charts.js";

export const RUN_EVAL_FILE = "eval.jsonl";

const fraction = z.number().refine((x) => Number.isFinite(x) && x >= 0 && x <= 1, "must be a fraction in [0, 1]");
const EvalLineSchema = z.looseObject({ step: z.number().int().min(0), test: z.record(z.string(), fraction) });

/** The evaluations of a run, in file order; [] when the run has no eval.jsonl. A bad line names file and line. */
export function readEvalHistory(path: string): EvalPoint[] {
  if (!existsSync(path)) return [];
  return jsonlLines(readFileSync(path, "utf8")).map(({ line, text }) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new DataError(`${path}:${line}: invalid JSON (${(e as Error).message})`);
    }
    const r = EvalLineSchema.safeParse(value);
    if (!r.success) {
      const why = r.error.issues.map((i) => `field "${i.path.map(String).join(".") || "(root)"}": ${i.message}`).join("; ");
      throw new DataError(`${path}:${line}: ${why}`);
    }
    return { step: r.data.step, test: r.data.test };
  });
}
