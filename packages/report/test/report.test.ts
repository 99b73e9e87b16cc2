import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StepMetrics } from "@rlvr/data";
import { renderReport } from "../src/index.js";
import { syntheticMetrics } from "./synthetic.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rlvr-report-"));
  dirs.push(d);
  return d;
}

function writeMetrics(dir: string, metrics: StepMetrics[]): void {
  writeFileSync(join(dir, "metrics.jsonl"), metrics.map((m) => JSON.stringify(m)).join("\n") + "\n");
}

describe("renderReport", () => {
  it("writes a self-contained report.html with one SVG per chart and the data's extent", async () => {
    const dir = runDir();
    writeMetrics(dir, syntheticMetrics(200));
    writeFileSync(join(dir, "eval.json"), JSON.stringify({ step: 200, benchmarks: { math500: 0.736, aime24: { accuracy: 0.1667, n: 240 } } }));
    const result = await renderReport(dir, { png: true });
    expect(result.steps).toBe(200);
    // the paper's curves, then every other numeric metric of the records, then the phases
    expect(result.charts).toEqual([
      "reward", "train_acc", "test_acc", "entropy", "response_length", "reflection",
      "kl", "clip_frac", "pg_loss", "grad_norm", "lr", "tokens_per_s", "time", "epoch", "phase_s",
    ]);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html.match(/<svg[\s>]/g)?.length).toBe(15);
    // No fetched resource: only the SVG namespace URIs may mention http.
    const withoutNs = html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]+"/g, "");
    expect(withoutNs).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link/);
    // Extent: the step axis reaches 200, the length axis 1100 tokens; the summary says the same.
    expect(html).toContain(">200<");
    expect(html).toMatch(/<th>response_length_mean<\/th><td>503<\/td><td>1100<\/td><td>1100<\/td>/);
    expect(html).toContain("<th>math500</th><td>73.6%</td>");
    expect(html).toContain("<th>average</th><td>45.1%</td>");
    for (const bench of ["math500", "aime24"]) expect(html).toContain(`>${bench}<`);
    expect(html).toContain(">total<");
    expect(html).not.toContain(">recalculate<"); // never occurs: no flat line
    expect(readdirSync(join(dir, "charts")).sort()).toEqual(result.charts.map((c) => `${c}.png`).sort());
    const png = readFileSync(join(dir, "charts", "train_acc.png"));
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("PPO runs get a critic chart (value loss, mean value, mean return) and summary rows", async () => {
    const dir = runDir();
    writeMetrics(dir, syntheticMetrics(30).map((m) => ({ ...m, vf_loss: 1 / m.step, values_mean: 0.01 * m.step, returns_mean: 0.5 }) as StepMetrics));
    const result = await renderReport(dir, {});
    expect(result.charts).toContain("critic");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain(">mean return<");
    expect(html).toMatch(/<th>vf_loss<\/th>/);
  });

  it("notes the charts without data instead of drawing empty ones", async () => {
    const dir = runDir();
    writeMetrics(
      dir,
      syntheticMetrics(3).map(({ reflection: _r, test: _t, ...m }) => m),
    );
    const result = await renderReport(dir);
    expect(result.charts.slice(0, 4)).toEqual(["reward", "train_acc", "entropy", "response_length"]);
    expect(result.charts).not.toContain("test_acc");
    expect(result.charts).not.toContain("reflection");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html.match(/<svg[\s>]/g)?.length).toBe(result.charts.length);
    expect(html.match(/no data in metrics\.jsonl/g)?.length).toBe(2);
    expect(existsSync(join(dir, "charts"))).toBe(false);
  });

  it("fails with the file and line of a bad record, and on a bad eval.json", async () => {
    const dir = runDir();
    await expect(renderReport(join(dir, "missing"))).rejects.toThrow(/run folder not found/);
    await expect(renderReport(dir)).rejects.toThrow(/metrics file not found/);
    writeFileSync(join(dir, "metrics.jsonl"), `${JSON.stringify(syntheticMetrics(1)[0])}\n{"step": 2}\n`);
    await expect(renderReport(dir)).rejects.toThrow(/metrics.jsonl:2: missing field "epoch"/);
    writeMetrics(dir, syntheticMetrics(2));
    writeFileSync(join(dir, "eval.json"), JSON.stringify({ benchmarks: { math500: 73.6 } }));
    await expect(renderReport(dir)).rejects.toThrow(/eval.json: field "benchmarks.math500"/);
  });
});
