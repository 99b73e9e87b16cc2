import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderReport } from "../src/index.js";
import { syntheticMetrics } from "./synthetic.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(evalJson: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "rlvr-report-breakdown-"));
  dirs.push(dir);
  writeFileSync(join(dir, "metrics.jsonl"), syntheticMetrics(20).map((m) => JSON.stringify(m)).join("\n") + "\n");
  writeFileSync(join(dir, "eval.json"), JSON.stringify(evalJson));
  return dir;
}

const breakdown = {
  bySubject: { Algebra: { n: 3, accuracy: 2 / 3 }, Geometry: { n: 1, accuracy: 0 } },
  byLevel: { "1": { n: 2, accuracy: 1 }, "5": { n: 2, accuracy: 0 } },
};

describe("MATH500 by subject and level in the report", () => {
  it("reads rlvr eval's eval.json (a list of benchmarks) and shows the breakdown", async () => {
    const dir = run({ version: 1, model: "m", benchmarks: [{ name: "math500", accuracy: 0.5, n: 4, breakdown, problems: [] }, { name: "aime24", accuracy: 0.1, n: 30 }] });
    await renderReport(dir);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("<h2>math500 by subject and level</h2>");
    expect(html).toMatch(/<tr><th>Algebra<\/th><td>3<\/td><td>66\.7%<\/td><\/tr>/);
    expect(html).toMatch(/<tr><th>5<\/th><td>2<\/td><td>0\.0%<\/td><\/tr>/);
    expect(html).not.toContain("aime24 by subject");
  });
  it("the report's own record shape carries it too; none without one", async () => {
    const dir = run({ benchmarks: { math500: { accuracy: 0.5, n: 4, breakdown } } });
    await renderReport(dir);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("math500 by subject and level");
    const plain = run({ benchmarks: { math500: 0.5 } });
    await renderReport(plain);
    expect(readFileSync(join(plain, "report.html"), "utf8")).not.toContain("by subject and level");
  });
});
