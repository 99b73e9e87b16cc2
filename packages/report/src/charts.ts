// Line charts as SVG text, rendered server-side by vega (renderer "none": no browser, no canvas).
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { StepMetrics } from "@rlvr/data";

export interface ChartPoint {
  step: number;
  value: number;
  /** The series (benchmark, word, run); one line per series. */
  series?: string;
}

export interface ChartDef {
  /** A file-name-safe id, e.g. "train_acc". */
  id: string;
  title: string;
  yTitle: string;
  points: ChartPoint[];
  /** Format of the y axis labels (d3-format), e.g. ".1%". The y range always follows the data. */
  yFormat?: string;
}

/** One test evaluation of a run (a line of <run>/eval.jsonl; step 0 is the model before training). */
export interface EvalPoint {
  step: number;
  test: Record<string, number>;
}

/** What the charts of one run are drawn from. */
export interface RunData {
  /** The run's name in legends when several runs are overlaid. */
  name: string;
  metrics: readonly StepMetrics[];
  /** Test evaluations, the before-training one included (eval.jsonl); may be empty. */
  evals: readonly EvalPoint[];
}

const WIDTH = 480;
const HEIGHT = 200;

/** The vega-lite spec of one chart: a line per series, points when there are few steps. */
export function chartSpec(chart: ChartDef): TopLevelSpec {
  const multi = chart.points.some((p) => p.series !== undefined);
  const few = new Set(chart.points.map((p) => p.step)).size <= 40;
  return {
    width: WIDTH,
    height: HEIGHT,
    background: "white",
    padding: 8,
    title: { text: chart.title, anchor: "start", fontSize: 14 },
    data: { values: chart.points.map((p) => ({ step: p.step, value: p.value, series: p.series ?? chart.yTitle })) },
    mark: { type: "line", point: few, strokeWidth: 1.8, clip: true },
    encoding: {
      // steps are whole numbers: no fractional ticks on short runs
      x: { field: "step", type: "quantitative", title: "step", scale: { zero: false, nice: false }, axis: { tickMinStep: 1, format: "d" } },
      y: {
        field: "value",
        type: "quantitative",
        title: chart.yTitle,
        // the range follows the data, so a 30 -> 32 % change is visible
        scale: { zero: false },
        ...(chart.yFormat ? { axis: { format: chart.yFormat } } : {}),
      },
      ...(multi ? { color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 4 } } } : {}),
    },
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", view: { stroke: "#ddd" } },
  } as TopLevelSpec;
}

/** Renders one chart to standalone SVG text. */
export async function renderSvg(chart: ChartDef): Promise<string> {
  const spec = compile(chartSpec(chart)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A series label: the sub-series alone for one run, prefixed by the run's name when runs are overlaid. */
function label(run: RunData, several: boolean, sub?: string): string | undefined {
  if (!several) return sub;
  return sub === undefined ? run.name : `${run.name}: ${sub}`;
}

function scalar(runs: readonly RunData[], pick: (m: StepMetrics) => unknown): ChartPoint[] {
  const several = runs.length > 1;
  const out: ChartPoint[] = [];
  for (const run of runs) {
    for (const m of run.metrics) {
      const v = pick(m);
      if (typeof v === "number" && Number.isFinite(v)) out.push({ step: m.step, value: v, series: label(run, several) });
    }
  }
  return out;
}

/** Test accuracy per benchmark: eval.jsonl (with the before-training point) and the steps' `test` records. */
function testAccuracy(runs: readonly RunData[]): ChartPoint[] {
  const several = runs.length > 1;
  const out: ChartPoint[] = [];
  for (const run of runs) {
    const seen = new Set<string>();
    const add = (step: number, bench: string, acc: number) => {
      const key = `${step}\u0000${bench}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ step, value: acc, series: several ? `${run.name}: ${bench}` : bench });
    };
    for (const e of run.evals) for (const [bench, acc] of Object.entries(e.test)) add(e.step, bench, acc);
    for (const m of run.metrics) for (const [bench, acc] of Object.entries(m.test ?? {})) add(m.step, bench, acc);
  }
  return out.sort((a, b) => a.step - b.step);
}

function reflection(runs: readonly RunData[]): ChartPoint[] {
  const several = runs.length > 1;
  const out: ChartPoint[] = [];
  for (const run of runs) {
    // Words that never occur would only add flat lines at zero.
    const seen = new Set<string>();
    for (const m of run.metrics) for (const [word, n] of Object.entries(m.reflection ?? {})) if (n > 0) seen.add(word);
    for (const m of run.metrics) {
      if (!m.reflection) continue;
      let total = 0;
      for (const [word, n] of Object.entries(m.reflection)) {
        total += n;
        // overlaid runs show the totals only: one line per run and word would be unreadable
        if (!several && seen.has(word)) out.push({ step: m.step, value: n, series: word });
      }
      out.push({ step: m.step, value: total, series: label(run, several, "total") });
    }
  }
  return out;
}

/** PPO runs (metrics with vf_loss): the critic's value loss, its mean value and the mean return. */
function critic(runs: readonly RunData[]): ChartPoint[] {
  const several = runs.length > 1;
  const out: ChartPoint[] = [];
  for (const run of runs) {
    for (const m of run.metrics) {
      const x = m as StepMetrics & { vf_loss?: number; values_mean?: number; returns_mean?: number };
      if (typeof x.vf_loss !== "number") continue;
      out.push({ step: m.step, value: x.vf_loss, series: label(run, several, "value loss") });
      if (typeof x.values_mean === "number") out.push({ step: m.step, value: x.values_mean, series: label(run, several, "mean value") });
      if (typeof x.returns_mean === "number") out.push({ step: m.step, value: x.returns_mean, series: label(run, several, "mean return") });
    }
  }
  return out;
}

function phases(runs: readonly RunData[]): ChartPoint[] {
  const several = runs.length > 1;
  const out: ChartPoint[] = [];
  for (const run of runs) {
    for (const m of run.metrics) {
      for (const [phase, s] of Object.entries(m.phase_s)) {
        if (typeof s === "number" && Number.isFinite(s)) out.push({ step: m.step, value: s, series: label(run, several, phase) });
      }
    }
  }
  return out;
}

/** Titles of the known scalar metrics; any other numeric key of metrics.jsonl is charted under its own name. */
const KNOWN_SCALARS: Record<string, { title: string; yTitle: string; yFormat?: string }> = {
  kl: { title: "KL to the reference model", yTitle: "KL" },
  clip_frac: { title: "PPO clip fraction (share of response tokens clipped)", yTitle: "fraction", yFormat: ".2%" },
  pg_loss: { title: "Policy-gradient loss", yTitle: "loss" },
  grad_norm: { title: "Gradient norm (before clipping)", yTitle: "norm" },
  lr: { title: "Learning rate", yTitle: "lr", yFormat: ".2e" },
  tokens_per_s: { title: "Rollout throughput", yTitle: "tokens / s" },
  distinct_responses: { title: "Distinct responses per step", yTitle: "count" },
  time: { title: "Wall-clock time since the start", yTitle: "seconds" },
  epoch: { title: "Epoch", yTitle: "epoch" },
};

/** Keys drawn by the dedicated charts above, or not metrics at all. */
const NOT_GENERIC = new Set(["step", "reward_mean", "train_acc", "entropy", "response_length_mean", "vf_loss", "values_mean", "returns_mean"]);

/** Every other numeric top-level key that occurs in the runs, known ones first, in a stable order. */
function otherScalarKeys(runs: readonly RunData[]): string[] {
  const keys = new Set<string>();
  for (const run of runs) for (const m of run.metrics) for (const [k, v] of Object.entries(m)) if (typeof v === "number" && !NOT_GENERIC.has(k)) keys.add(k);
  const known = Object.keys(KNOWN_SCALARS).filter((k) => keys.has(k));
  const rest = [...keys].filter((k) => !(k in KNOWN_SCALARS)).sort();
  return [...known, ...rest];
}

/** A file-name-safe chart id for a metric key. */
function safeId(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * The report's charts, in order: the paper's curves first (reward, training and test accuracy,
 * entropy, length, self-reflection), then every other numeric metric and the time per phase.
 * Charts with no data are returned with empty points (the report notes them).
 */
export function chartsFor(runs: readonly RunData[]): ChartDef[] {
  const criticPoints = critic(runs);
  const charts: ChartDef[] = [
    { id: "reward", title: "Reward (mean over responses)", yTitle: "reward", points: scalar(runs, (m) => m.reward_mean) },
    { id: "train_acc", title: "Training accuracy", yTitle: "accuracy", points: scalar(runs, (m) => m.train_acc), yFormat: ".1%" },
    { id: "test_acc", title: "Test accuracy per benchmark (step 0: before training)", yTitle: "accuracy", points: testAccuracy(runs), yFormat: ".1%" },
    { id: "entropy", title: "Mean token entropy of the responses", yTitle: "entropy (nats)", points: scalar(runs, (m) => m.entropy) },
    { id: "response_length", title: "Mean response length", yTitle: "tokens", points: scalar(runs, (m) => m.response_length_mean) },
    { id: "reflection", title: "Self-reflection words per step", yTitle: "count", points: reflection(runs) },
    ...(criticPoints.length > 0 ? [{ id: "critic", title: "Critic (PPO): value loss, mean value and mean return", yTitle: "value", points: criticPoints }] : []),
  ];
  const taken = new Set(charts.map((c) => c.id));
  for (const key of otherScalarKeys(runs)) {
    let id = safeId(key);
    while (taken.has(id)) id = `metric_${id}`;
    taken.add(id);
    const known = KNOWN_SCALARS[key];
    charts.push({
      id, title: known?.title ?? key, yTitle: known?.yTitle ?? key, points: scalar(runs, (m) => (m as Record<string, unknown>)[key]),
      ...(known?.yFormat ? { yFormat: known.yFormat } : {}),
    });
  }
  charts.push({ id: "phase_s", title: "Seconds per phase of a step", yTitle: "seconds", points: phases(runs) });
  return charts;
}
