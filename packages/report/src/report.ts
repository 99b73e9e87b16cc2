// <run>/report.html from <run>/metrics.jsonl: self-contained, charts as inline SVG.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { z } from "zod";
import { DataError, readMetrics, writeFileAtomic, type StepMetrics } from "@rlvr/data";
import { chartsFor, renderSvg, type ChartDef, type EvalPoint, type RunData } from "./charts.js";
import { readEvalHistory, RUN_EVAL_FILE } from "./evalHistory.js";
import { breakdownHtml, breakdowns, evalJsonAsRecord } from "./evalBreakdown.js";

/** Optional final evaluation next to the metrics: <run>/eval.json. */
export const EVAL_RESULTS_FILE = "eval.json";

/**
 * eval.json: accuracy in [0, 1] per benchmark, bare or with its sample count, plus optional
 * context. Example: {"step": 500, "benchmarks": {"math500": 0.736, "aime24": {"accuracy": 0.167, "n": 240}}}.
 */
export const EvalResultsSchema = z.looseObject({
  step: z.number().int().min(0).optional(),
  model: z.string().optional(),
  benchmarks: z.record(
    z.string(),
    z.union([z.number().min(0).max(1), z.looseObject({ accuracy: z.number().min(0).max(1), n: z.number().int().min(0).optional() })]),
  ),
});
export type EvalResults = z.infer<typeof EvalResultsSchema>;

export interface ReportOptions {
  /** Also write each chart as <report folder>/charts/<id>.png. */
  png?: boolean;
  /** Eval results file (default <run>/eval.json when it exists; one run only). */
  evalFile?: string;
  /** Where to write the HTML: default <run>/report.html for one run, ./rlvr-compare.html for several. */
  out?: string;
}

export interface ReportResult {
  html: string;
  charts: string[];
  pngs: string[];
  steps: number;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Up to 4 significant digits, without exponent noise for the usual ranges. */
export function formatNumber(x: number): string {
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

function readEvalResults(path: string): EvalResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DataError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  const result = EvalResultsSchema.safeParse(evalJsonAsRecord(parsed));
  if (!result.success) {
    const why = result.error.issues.map((i) => `field "${i.path.map(String).join(".") || "(root)"}": ${i.message}`).join("; ");
    throw new DataError(`${path}: ${why}`);
  }
  return result.data;
}

interface SummaryRow {
  label: string;
  pick: (m: StepMetrics) => number | undefined;
}

const SUMMARY: SummaryRow[] = [
  { label: "reward_mean", pick: (m) => m.reward_mean },
  { label: "train_acc", pick: (m) => m.train_acc },
  { label: "entropy", pick: (m) => m.entropy },
  { label: "response_length_mean", pick: (m) => m.response_length_mean },
  { label: "kl", pick: (m) => m.kl },
  { label: "clip_frac", pick: (m) => m.clip_frac },
  { label: "pg_loss", pick: (m) => m.pg_loss },
  { label: "grad_norm", pick: (m) => m.grad_norm },
  { label: "tokens_per_s", pick: (m) => m.tokens_per_s },
  // PPO only (rows without values are left out)
  { label: "vf_loss", pick: (m) => (m as { vf_loss?: number }).vf_loss },
  { label: "values_mean", pick: (m) => (m as { values_mean?: number }).values_mean },
];

function summaryTable(metrics: readonly StepMetrics[]): string {
  const rows = SUMMARY.map(({ label, pick }) => {
    const xs = metrics.map(pick).filter((x): x is number => x !== undefined);
    if (xs.length === 0) return "";
    const cells = [Math.min(...xs), Math.max(...xs), xs.at(-1)!].map((x) => `<td>${formatNumber(x)}</td>`).join("");
    return `<tr><th>${label}</th>${cells}</tr>`;
  }).join("\n");
  return `<table class="summary"><thead><tr><th>metric</th><th>min</th><th>max</th><th>last</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function phaseTable(metrics: readonly StepMetrics[]): string {
  const phases = ["rollout", "reward", "old_logp", "ref_logp", "update"] as const;
  const totals = phases.map((p) => metrics.reduce((s, m) => s + m.phase_s[p], 0));
  const all = totals.reduce((s, x) => s + x, 0) || 1;
  const cells = phases
    .map((p, i) => `<tr><th>${p}</th><td>${formatNumber(totals[i]! / metrics.length)}</td><td>${((100 * totals[i]!) / all).toFixed(1)}%</td></tr>`)
    .join("\n");
  return `<table class="summary"><thead><tr><th>phase</th><th>mean s/step</th><th>share</th></tr></thead><tbody>\n${cells}\n</tbody></table>`;
}

function evalTable(results: EvalResults, runName?: string): string {
  const entries = Object.entries(results.benchmarks).map(([bench, v]) => ({
    bench,
    acc: typeof v === "number" ? v : v.accuracy,
    n: typeof v === "number" ? undefined : v.n,
  }));
  const mean = entries.reduce((s, e) => s + e.acc, 0) / Math.max(1, entries.length);
  const rows = entries
    .map((e) => `<tr><th>${escapeHtml(e.bench)}</th><td>${(100 * e.acc).toFixed(1)}%</td><td>${e.n ?? ""}</td></tr>`)
    .join("\n");
  const context = [runName ? escapeHtml(runName) : "", results.model ? `model ${escapeHtml(results.model)}` : "", results.step !== undefined ? `step ${results.step}` : ""]
    .filter(Boolean)
    .join(", ");
  return (
    `<h2>Evaluation${context ? ` (${context})` : ""}</h2>\n<table class="summary"><thead><tr><th>benchmark</th><th>accuracy</th><th>samples</th></tr></thead><tbody>\n${rows}\n` +
    `<tr class="avg"><th>average</th><td>${(100 * mean).toFixed(1)}%</td><td></td></tr>\n</tbody></table>` +
    breakdowns(results.benchmarks).map(([name, b]) => `\n${breakdownHtml(name, b, escapeHtml)}`).join("")
  );
}

/** "before X% (step 0) -> after Y% (step N)" per benchmark: the first and last evaluation of a run. */
function headlineTable(runs: readonly RunData[]): string {
  const rows: string[] = [];
  for (const run of runs) {
    const points = new Map<string, { step: number; acc: number }[]>();
    const add = (step: number, test: Record<string, number> | undefined) => {
      for (const [bench, acc] of Object.entries(test ?? {})) {
        const list = points.get(bench) ?? [];
        if (!list.some((p) => p.step === step)) list.push({ step, acc });
        points.set(bench, list);
      }
    };
    for (const e of run.evals) add(e.step, e.test);
    for (const m of run.metrics) add(m.step, m.test);
    for (const [bench, list] of points) {
      list.sort((a, b) => a.step - b.step);
      const first = list[0]!, last = list.at(-1)!;
      const change = 100 * (last.acc - first.acc);
      rows.push(
        `<tr>${runs.length > 1 ? `<th>${escapeHtml(run.name)}</th>` : ""}<th>${escapeHtml(bench)}</th>` +
          `<td>${(100 * first.acc).toFixed(1)}% (step ${first.step})</td><td>${(100 * last.acc).toFixed(1)}% (step ${last.step})</td>` +
          `<td>${change >= 0 ? "+" : ""}${change.toFixed(1)}</td></tr>`,
      );
    }
  }
  if (rows.length === 0) return "";
  return (
    `<h2>Test accuracy, first and last evaluation</h2>\n<table class="summary"><thead><tr>${runs.length > 1 ? "<th>run</th>" : ""}<th>benchmark</th>` +
    `<th>before</th><th>after</th><th>change (points)</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`
  );
}

const STYLE = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 24px}
@media (max-width:1100px){.charts{grid-template-columns:minmax(0,1fr)}}
.chart{margin:12px 0}.chart svg{max-width:100%;height:auto}.empty{color:#888;font-style:italic}
.tables{display:flex;flex-wrap:wrap;gap:0 32px}
table.summary{border-collapse:collapse;font-size:13px;margin:8px 0}
table.summary th,table.summary td{border:1px solid #ddd;padding:3px 10px;text-align:right}
table.summary th:first-child{text-align:left}tr.avg{font-weight:bold}`;

export interface ReportRun {
  /** The run's name (its folder's name by default). */
  name: string;
  metrics: readonly StepMetrics[];
  /** Test evaluations from eval.jsonl, the one before training (step 0) included. */
  evals?: readonly EvalPoint[];
  /** Final evaluation (eval.json). */
  evalResults?: EvalResults;
}

/** Renders the report's HTML text and the charts' SVGs (no file is written); several runs are overlaid. */
export async function buildReport(
  runs: readonly ReportRun[],
  options: { title: string },
): Promise<{ html: string; charts: { def: ChartDef; svg: string | null }[] }> {
  const data: RunData[] = runs.map((r) => ({ name: r.name, metrics: [...r.metrics].sort((a, b) => a.step - b.step), evals: r.evals ?? [] }));
  const charts: { def: ChartDef; svg: string | null }[] = [];
  for (const def of chartsFor(data)) charts.push({ def, svg: def.points.length > 0 ? await renderSvg(def) : null });
  const header = data
    .map((r) => {
      const last = r.metrics.at(-1);
      const what = r.metrics.length === 0 ? "no steps recorded yet" : `${r.metrics.length} steps (step ${r.metrics[0]!.step} to ${last!.step}), ${formatNumber(last!.time)} s of training`;
      return `<p>${data.length > 1 ? `<b>${escapeHtml(r.name)}</b>: ` : ""}${what}.</p>`;
    })
    .join("\n");
  const chartHtml = charts
    .map(({ def, svg }) =>
      svg === null
        ? `<section class="chart" id="${def.id}"><h2>${escapeHtml(def.title)}</h2><p class="empty">no data in metrics.jsonl</p></section>`
        : `<section class="chart" id="${def.id}">\n${svg}\n</section>`,
    )
    .join("\n");
  const evalTables = runs
    .filter((r) => r.evalResults)
    .map((r) => evalTable(r.evalResults!, runs.length > 1 ? r.name : undefined))
    .join("\n");
  const summaries = data
    .filter((r) => r.metrics.length > 0)
    .map((r) => {
      const who = data.length > 1 ? ` (${escapeHtml(r.name)})` : "";
      return `<div><h2>Summary${who}</h2>\n${summaryTable(r.metrics)}</div>\n<div><h2>Time per phase${who}</h2>\n${phaseTable(r.metrics)}</div>`;
    })
    .join("\n");
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${header}
${headlineTable(data)}
${evalTables}
<div class="charts">
${chartHtml}
</div>
${summaries ? `<div class="tables">\n${summaries}\n</div>` : ""}
</body></html>
`;
  return { html, charts };
}

/** Rasterizes an SVG to PNG at twice its size (no browser: resvg). */
export function svgToPng(svg: string): Uint8Array {
  const resvg = new Resvg(svg, { fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return resvg.render().asPng();
}

/** A run folder's metrics, eval history (eval.jsonl) and final evaluation (eval.json) when present. */
export function readRun(runDir: string, evalFile?: string): ReportRun {
  const dir = resolve(runDir);
  if (!existsSync(dir)) throw new DataError(`${runDir}: run folder not found`);
  const metrics = readMetrics(join(dir, "metrics.jsonl"));
  const evalPath = evalFile ?? join(dir, EVAL_RESULTS_FILE);
  const evalResults = evalFile !== undefined || existsSync(evalPath) ? readEvalResults(evalPath) : undefined;
  return { name: basename(dir), metrics, evals: readEvalHistory(join(dir, RUN_EVAL_FILE)), ...(evalResults ? { evalResults } : {}) };
}

/**
 * Reads each run folder (metrics.jsonl, eval.jsonl and eval.json when present) and writes the
 * report atomically: <run>/report.html for one run, `out` (default ./rlvr-compare.html) with the
 * runs overlaid for several. With `png`, also <report folder>/charts/<id>.png per chart.
 */
export async function renderReport(runDirs: string | readonly string[], options: ReportOptions = {}): Promise<ReportResult> {
  const dirs = typeof runDirs === "string" ? [runDirs] : [...runDirs];
  if (dirs.length === 0) throw new DataError("no run folder given: pass one to report on, or several to compare");
  if (dirs.length > 1 && options.evalFile !== undefined) {
    throw new DataError("an eval results file (--eval-file) applies to one run only: each run's own eval.json is read when several are compared");
  }
  const runs = dirs.map((d) => readRun(d, dirs.length === 1 ? options.evalFile : undefined));
  // the same folder name twice (runs/a/seed1, runs/b/seed1) would give one legend entry for two runs
  const names = runs.map((r) => r.name);
  runs.forEach((r, i) => {
    if (names.indexOf(r.name) !== i || names.lastIndexOf(r.name) !== i) r.name = resolve(dirs[i]!);
  });
  const title = runs.length === 1 ? `rlvr run ${runs[0]!.name}` : `rlvr runs compared: ${runs.map((r) => basename(r.name)).join(", ")}`;
  const { html, charts } = await buildReport(runs, { title });
  const htmlPath = resolve(options.out ?? (runs.length === 1 ? join(resolve(dirs[0]!), "report.html") : "rlvr-compare.html"));
  writeFileAtomic(htmlPath, html);
  const pngs: string[] = [];
  if (options.png) {
    for (const { def, svg } of charts) {
      if (svg === null) continue;
      const path = join(dirname(htmlPath), "charts", `${def.id}.png`);
      writeFileAtomic(path, svgToPng(svg));
      pngs.push(path);
      // a render is synchronous (tens to hundreds of ms a chart): let the event loop turn between them
      await new Promise((r) => setImmediate(r));
    }
  }
  return { html: htmlPath, charts: charts.filter((c) => c.svg !== null).map((c) => c.def.id), pngs, steps: runs.reduce((n, r) => n + r.metrics.length, 0) };
}
