// Line charts as SVG text, rendered server-side by vega (renderer "none": no browser, no canvas).
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { StepMetrics } from "@rlvr/data";

export interface ChartPoint {
  step: number;
  value: number;
  /** The series (benchmark, word); one line per series. */
  series?: string;
}

export interface ChartDef {
  /** A file-name-safe id, e.g. "train_acc". */
  id: string;
  title: string;
  yTitle: string;
  points: ChartPoint[];
  /** A fixed y domain, e.g. [0, 1] for accuracies. */
  yDomain?: [number, number];
  /** Format of the y axis labels (d3-format), e.g. ".0%". */
  yFormat?: string;
}

const WIDTH = 640;
const HEIGHT = 220;

/** The vega-lite spec of one chart: a line per series, points when there are few. */
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
      x: { field: "step", type: "quantitative", title: "step", scale: { zero: false, nice: false } },
      y: {
        field: "value",
        type: "quantitative",
        title: chart.yTitle,
        scale: chart.yDomain ? { domain: chart.yDomain } : { zero: false },
        ...(chart.yFormat ? { axis: { format: chart.yFormat } } : {}),
      },
      ...(multi ? { color: { field: "series", type: "nominal", title: null, legend: { orient: "right" } } } : {}),
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

function series(metrics: readonly StepMetrics[], pick: (m: StepMetrics) => number | undefined): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const m of metrics) {
    const v = pick(m);
    if (v !== undefined && Number.isFinite(v)) out.push({ step: m.step, value: v });
  }
  return out;
}

/** The report's charts, in order. Charts with no data are returned with empty points. */
export function chartsFor(metrics: readonly StepMetrics[]): ChartDef[] {
  const test: ChartPoint[] = [];
  const reflection: ChartPoint[] = [];
  // Words that never occur would only add flat lines at zero.
  const seen = new Set<string>();
  for (const m of metrics) for (const [word, n] of Object.entries(m.reflection ?? {})) if (n > 0) seen.add(word);
  for (const m of metrics) {
    for (const [bench, acc] of Object.entries(m.test ?? {})) test.push({ step: m.step, value: acc, series: bench });
    if (m.reflection) {
      let total = 0;
      for (const [word, n] of Object.entries(m.reflection)) {
        total += n;
        if (seen.has(word)) reflection.push({ step: m.step, value: n, series: word });
      }
      reflection.push({ step: m.step, value: total, series: "total" });
    }
  }
  return [
    { id: "reward", title: "Reward (mean over responses)", yTitle: "reward", points: series(metrics, (m) => m.reward_mean) },
    { id: "train_acc", title: "Training accuracy", yTitle: "accuracy", points: series(metrics, (m) => m.train_acc), yDomain: [0, 1], yFormat: ".0%" },
    { id: "entropy", title: "Mean token entropy of the responses", yTitle: "entropy (nats)", points: series(metrics, (m) => m.entropy) },
    { id: "response_length", title: "Mean response length", yTitle: "tokens", points: series(metrics, (m) => m.response_length_mean) },
    { id: "test_acc", title: "Test accuracy per benchmark", yTitle: "accuracy", points: test, yDomain: [0, 1], yFormat: ".0%" },
    { id: "reflection", title: "Self-reflection words per step", yTitle: "count", points: reflection },
    ...criticChart(metrics),
  ];
}

/** PPO runs (metrics with vf_loss): the critic's value loss and its mean value vs the mean return. */
function criticChart(metrics: readonly StepMetrics[]): ChartDef[] {
  const points: { step: number; value: number; series: string }[] = [];
  for (const m of metrics) {
    const x = m as StepMetrics & { vf_loss?: number; values_mean?: number; returns_mean?: number };
    if (typeof x.vf_loss !== "number") continue;
    points.push({ step: m.step, value: x.vf_loss, series: "value loss" });
    if (typeof x.values_mean === "number") points.push({ step: m.step, value: x.values_mean, series: "mean value" });
    if (typeof x.returns_mean === "number") points.push({ step: m.step, value: x.returns_mean, series: "mean return" });
  }
  return points.length === 0 ? [] : [{ id: "critic", title: "Critic (PPO): value loss, mean value and mean return", yTitle: "value", points }];
}
