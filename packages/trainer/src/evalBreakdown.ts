// MATH500 by subject and by difficulty level (the paper's cross-domain analysis): accuracy over
// the problems of each subject / level, from the per-problem scores of an evaluation.

import type { BreakdownRow, SubjectLevelBreakdown } from "@rlvr/data";

export type { BreakdownRow, SubjectLevelBreakdown };

interface Scored {
  score: number;
  subject?: string;
  level?: number;
}

function group(problems: readonly Scored[], key: (p: Scored) => string | undefined, order: (a: string, b: string) => number): Record<string, BreakdownRow> {
  const sums = new Map<string, { n: number; total: number }>();
  for (const p of problems) {
    const k = key(p);
    if (k === undefined) continue;
    const s = sums.get(k) ?? { n: 0, total: 0 };
    s.n++;
    s.total += p.score;
    sums.set(k, s);
  }
  return Object.fromEntries([...sums.entries()].sort(([a], [b]) => order(a, b)).map(([k, s]) => [k, { n: s.n, accuracy: s.total / s.n }]));
}

/** The breakdown, or null when no problem has a subject or a level (benchmarks other than MATH). */
export function subjectLevelBreakdown(problems: readonly Scored[]): SubjectLevelBreakdown | null {
  if (!problems.some((p) => p.subject !== undefined || p.level !== undefined)) return null;
  return {
    bySubject: group(problems, (p) => p.subject, (a, b) => a.localeCompare(b)),
    byLevel: group(problems, (p) => (p.level === undefined ? undefined : String(p.level)), (a, b) => Number(a) - Number(b)),
  };
}

const pct = (x: number) => (100 * x).toFixed(1);

/** Markdown tables of a benchmark's breakdown. */
export function breakdownMarkdown(name: string, b: SubjectLevelBreakdown): string[] {
  const table = (title: string, rows: Record<string, BreakdownRow>) => [
    `| ${title} | n | Accuracy (%) |`,
    "|---|---:|---:|",
    ...Object.entries(rows).map(([k, r]) => `| ${k.replace(/\|/g, "\\|")} | ${r.n} | ${pct(r.accuracy)} |`),
  ];
  return [`## ${name} by subject and level`, "", ...table("Subject", b.bySubject), "", ...table("Level", b.byLevel), ""];
}
