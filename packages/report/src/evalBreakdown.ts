// MATH500 by subject and level in the run report. eval.json may come in two shapes: the report's
// own record ({"benchmarks": {"math500": {"accuracy": ..., "breakdown": ...}}}) or `rlvr eval`'s
// (a list of benchmark reports with name, accuracy, n and, for math500, breakdown); the list is
// read as the record.

import type { BreakdownRow, SubjectLevelBreakdown as Breakdown } from "@rlvr/data";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** `rlvr eval`'s list of benchmark reports as the record the report reads; anything else unchanged. */
export function evalJsonAsRecord(parsed: unknown): unknown {
  if (!isObj(parsed) || !Array.isArray(parsed.benchmarks)) return parsed;
  const benchmarks: Obj = {};
  for (const b of parsed.benchmarks) {
    if (!isObj(b) || typeof b.name !== "string") return parsed; // let the schema report it
    benchmarks[b.name] = { accuracy: b.accuracy, ...(typeof b.n === "number" ? { n: b.n } : {}), ...(b.breakdown !== undefined ? { breakdown: b.breakdown } : {}) };
  }
  return { ...parsed, benchmarks };
}

function isRows(v: unknown): v is Record<string, BreakdownRow> {
  return isObj(v) && Object.values(v).every((r) => isObj(r) && typeof r.n === "number" && typeof r.accuracy === "number" && r.accuracy >= 0 && r.accuracy <= 1);
}

/** The benchmarks that carry a well-formed breakdown. */
export function breakdowns(benchmarks: Record<string, unknown>): [string, Breakdown][] {
  return Object.entries(benchmarks).flatMap(([name, v]) => {
    const b = isObj(v) ? v.breakdown : undefined;
    return isObj(b) && isRows(b.bySubject) && isRows(b.byLevel) ? [[name, b as unknown as Breakdown] as [string, Breakdown]] : [];
  });
}

/** HTML tables of accuracy by subject and by level. */
export function breakdownHtml(name: string, b: Breakdown, escape: (s: string) => string): string {
  const table = (title: string, rows: Record<string, BreakdownRow>) =>
    `<table class="summary"><thead><tr><th>${title}</th><th>n</th><th>accuracy</th></tr></thead><tbody>\n` +
    Object.entries(rows)
      .map(([k, r]) => `<tr><th>${escape(k)}</th><td>${r.n}</td><td>${(100 * r.accuracy).toFixed(1)}%</td></tr>`)
      .join("\n") +
    `\n</tbody></table>`;
  return `<h2>${escape(name)} by subject and level</h2>\n${table("subject", b.bySubject)}\n${table("level", b.byLevel)}`;
}
