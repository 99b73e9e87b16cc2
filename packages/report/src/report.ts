// <run>/report.html from <run>/metrics.jsonl: self-contained, charts as inline SVG.
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { z } from "zod";
import { DataError, readMetrics, writeFileAtomic, type StepMetrics } from "@rlvr/data";
import { chartsFor, renderSvg, type ChartDef } from "./charts.js";

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
  /** Also write each chart as <run>/charts/<id>.png. */
  png?: boolean;
  /** Eval results file (default <run>/eval.json when it exists). */
  evalFile?: string;
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
  const result = EvalResultsSchema.safeParse(parsed);
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

function evalTable(results: EvalResults): string {
  const entries = Object.entries(results.benchmarks).map(([bench, v]) => ({
    bench,
    acc: typeof v === "number" ? v : v.accuracy,
    n: typeof v === "number" ? undefined : v.n,
  }));
  const mean = entries.reduce((s, e) => s + e.acc, 0) / Math.max(1, entries.length);
  const rows = entries
    .map((e) => `<tr><th>${escapeHtml(e.bench)}</th><td>${(100 * e.acc).toFixed(1)}%</td><td>${e.n ?? ""}</td></tr>`)
    .join("\n");
  const context = [results.model ? `model ${escapeHtml(results.model)}` : "", results.step !== undefined ? `step ${results.step}` : ""]
    .filter(Boolean)
    .join(", ");
  return (
    `<h2>Evaluation${context ? ` (${context})` : ""}</h2>\n<table class="summary"><thead><tr><th>benchmark</th><th>accuracy</th><th>samples</th></tr></thead><tbody>\n${rows}\n` +
    `<tr class="avg"><th>average</th><td>${(100 * mean).toFixed(1)}%</td><td></td></tr>\n</tbody></table>`
  );
}

const STYLE = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.chart{margin:12px 0}.empty{color:#888;font-style:italic}
table.summary{border-collapse:collapse;font-size:13px;margin:8px 0}
table.summary th,table.summary td{border:1px solid #ddd;padding:3px 10px;text-align:right}
table.summary th:first-child{text-align:left}tr.avg{font-weight:bold}`;

/** Renders the report's HTML text and the charts' SVGs (no file is written). */
export async function buildReport(
  metrics: readonly StepMetrics[],
  options: { title: string; evalResults?: EvalResults },
): Promise<{ html: string; charts: { def: ChartDef; svg: string | null }[] }> {
  const sorted = [...metrics].sort((a, b) => a.step - b.step);
  const charts: { def: ChartDef; svg: string | null }[] = [];
  for (const def of chartsFor(sorted)) charts.push({ def, svg: def.points.length > 0 ? await renderSvg(def) : null });
  const last = sorted.at(-1);
  const header =
    sorted.length === 0
      ? "<p>No steps recorded yet.</p>"
      : `<p>${sorted.length} steps (step ${sorted[0]!.step} to ${last!.step}), ${formatNumber(last!.time)} s of training.</p>`;
  const chartHtml = charts
    .map(({ def, svg }) =>
      svg === null
        ? `<section class="chart" id="${def.id}"><h2>${escapeHtml(def.title)}</h2><p class="empty">no data in metrics.jsonl</p></section>`
        : `<section class="chart" id="${def.id}">\n${svg}\n</section>`,
    )
    .join("\n");
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${header}
${options.evalResults ? evalTable(options.evalResults) : ""}
${chartHtml}
${sorted.length > 0 ? `<h2>Summary</h2>\n${summaryTable(sorted)}\n<h2>Time per phase</h2>\n${phaseTable(sorted)}` : ""}
</body></html>
`;
  return { html, charts };
}

/** Rasterizes an SVG to PNG at twice its size (no browser: resvg). */
export function svgToPng(svg: string): Uint8Array {
  const resvg = new Resvg(svg, { fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return resvg.render().asPng();
}

/**
 * Reads <runDir>/metrics.jsonl (and eval.json when present) and writes <runDir>/report.html
 * atomically; with `png`, also <runDir>/charts/<id>.png per chart.
 */
export async function renderReport(runDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const dir = resolve(runDir);
  if (!existsSync(dir)) throw new DataError(`${runDir}: run folder not found`);
  const metrics = readMetrics(join(dir, "metrics.jsonl"));
  const evalPath = options.evalFile ?? join(dir, EVAL_RESULTS_FILE);
  const evalResults = options.evalFile !== undefined || existsSync(evalPath) ? readEvalResults(evalPath) : undefined;
  const { html, charts } = await buildReport(metrics, { title: `rlvr run ${basename(dir)}`, evalResults });
  const htmlPath = join(dir, "report.html");
  writeFileAtomic(htmlPath, html);
  const pngs: string[] = [];
  if (options.png) {
    for (const { def, svg } of charts) {
      if (svg === null) continue;
      const path = join(dir, "charts", `${def.id}.png`);
      writeFileAtomic(path, svgToPng(svg));
      pngs.push(path);
    }
  }
  return { html: htmlPath, charts: charts.filter((c) => c.svg !== null).map((c) => c.def.id), pngs, steps: metrics.length };
}
