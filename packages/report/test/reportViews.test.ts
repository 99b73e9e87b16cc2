// What a reader of a short run needs to see: the before-training point, whole-number step ticks,
// a y range that follows the data, every metric charted, and several runs overlaid.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StepMetrics } from "@rlvr/data";
import { chartsFor, chartSpec, renderReport } from "../src/index.js";
import { syntheticMetrics } from "./synthetic.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(name: string, metrics: StepMetrics[], evals: { step: number; test: Record<string, number> }[] = []): string {
  const parent = mkdtempSync(join(tmpdir(), "rlvr-report-views-"));
  dirs.push(parent);
  const dir = join(parent, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "metrics.jsonl"), metrics.map((m) => JSON.stringify(m)).join("\n") + "\n");
  if (evals.length > 0) writeFileSync(join(dir, "eval.jsonl"), evals.map((e) => JSON.stringify({ ...e, time: e.step })).join("\n") + "\n");
  return dir;
}

/** The y tick labels of a chart's SVG (vega writes them as <text> in the axis groups). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

describe("report views", () => {
  it("shows the before-training evaluation (eval.jsonl step 0) in the chart and the headline", async () => {
    const dir = run("pi1", syntheticMetrics(3), [{ step: 0, test: { math500: 0.3 } }, { step: 3, test: { math500: 0.32 } }]);
    await renderReport(dir);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toMatch(/<th>math500<\/th><td>30\.0% \(step 0\)<\/td><td>32\.0% \(step 3\)<\/td><td>\+2\.0<\/td>/);
    const test = chartsFor([{ name: "pi1", metrics: syntheticMetrics(3), evals: [{ step: 0, test: { math500: 0.3 } }] }]).find((c) => c.id === "test_acc")!;
    expect(test.points[0]).toEqual({ step: 0, value: 0.3, series: "math500" });
  });

  it("a 3-step run gets whole-number step ticks only, and a 30 -> 32 % change spans the y axis", async () => {
    const dir = run("short", syntheticMetrics(3), [{ step: 0, test: { math500: 0.3 } }, { step: 3, test: { math500: 0.32 } }]);
    await renderReport(dir, { png: false });
    const html = readFileSync(join(dir, "report.html"), "utf8");
    const section = (id: string) => html.slice(html.indexOf(`id="${id}"`), html.indexOf("</section>", html.indexOf(`id="${id}"`)));
    const labels = texts(section("test_acc"));
    // x ticks: 0, 1, 2, 3 and nothing like 0.5
    expect(labels).toEqual(expect.arrayContaining(["0", "1", "2", "3"]));
    expect(labels.some((t) => /^\d+\.\d+$/.test(t))).toBe(false);
    // y ticks inside [29 %, 33 %]: the range follows the data instead of 0-100 %
    const pct = labels.filter((t) => t.endsWith("%")).map((t) => Number.parseFloat(t));
    expect(pct.length).toBeGreaterThan(1);
    expect(Math.min(...pct)).toBeGreaterThanOrEqual(29);
    expect(Math.max(...pct)).toBeLessThanOrEqual(33);
    expect(chartSpec({ id: "x", title: "x", yTitle: "y", points: [{ step: 1, value: 1 }] })).toMatchObject({
      encoding: { x: { axis: { tickMinStep: 1, format: "d" } }, y: { scale: { zero: false } } },
    });
  });

  it("charts every numeric metric, unknown extra keys included", () => {
    const metrics = syntheticMetrics(4).map((m, i) => ({ ...m, distinct_responses: 8 - i, my_custom_metric: i * 0.5 }) as StepMetrics);
    const charts = chartsFor([{ name: "r", metrics, evals: [] }]);
    const ids = charts.map((c) => c.id);
    for (const key of ["kl", "clip_frac", "pg_loss", "grad_norm", "lr", "tokens_per_s", "distinct_responses", "my_custom_metric", "phase_s"]) {
      expect(ids).toContain(key);
    }
    expect(charts.find((c) => c.id === "my_custom_metric")!.points.map((p) => p.value)).toEqual([0, 0.5, 1, 1.5]);
    expect(new Set(charts.find((c) => c.id === "phase_s")!.points.map((p) => p.series))).toEqual(new Set(["rollout", "reward", "old_logp", "ref_logp", "update"]));
  });

  it("overlays several runs, one series per run, into the --out file", async () => {
    const a = run("seed1", syntheticMetrics(5), [{ step: 0, test: { math500: 0.3 } }]);
    const b = run("seed2", syntheticMetrics(5).map((m) => ({ ...m, reward_mean: m.reward_mean / 2 })), [{ step: 0, test: { math500: 0.31 } }]);
    const out = join(dirs[0]!, "compare.html");
    const result = await renderReport([a, b], { out });
    expect(result.html).toBe(out);
    expect(result.steps).toBe(10);
    const html = readFileSync(out, "utf8");
    for (const name of ["seed1", "seed2", "seed1: math500", "seed2: math500"]) expect(html).toContain(`>${name}<`);
    expect(html).toContain("rlvr runs compared: seed1, seed2");
    const reward = chartsFor([
      { name: "seed1", metrics: syntheticMetrics(2), evals: [] },
      { name: "seed2", metrics: syntheticMetrics(2), evals: [] },
    ]).find((c) => c.id === "reward")!;
    expect(reward.points.map((p) => p.series)).toEqual(["seed1", "seed1", "seed2", "seed2"]);
    await expect(renderReport([a, b], { evalFile: join(a, "eval.json") })).rejects.toThrow(/one run only/);
  });

  it("a bad eval.jsonl line names the file and line", async () => {
    const dir = run("bad", syntheticMetrics(2));
    writeFileSync(join(dir, "eval.jsonl"), `${JSON.stringify({ step: 0, test: { math500: 0.3 } })}\n{"step": 1, "test": {"math500": 30}}\n`);
    await expect(renderReport(dir)).rejects.toThrow(/eval\.jsonl:2: field "test\.math500"/);
  });
});
