/**
 * The report as a reader sees it: headless Chromium (Debian's `chromium`, driven by puppeteer-core)
 * opens report.html of an overlaid two-run report and every chart must have drawn: an SVG laid out
 * with a real size, and at least one line mark with a path of non-zero extent. Skipped, with the
 * reason, where no Chromium is installed (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { renderReport } from "../src/index.js";
import { syntheticMetrics } from "./synthetic.js";

const chromium = [process.env.CHROME_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (p): p is string => typeof p === "string" && p !== "" && existsSync(p),
);
const parent = mkdtempSync(join(tmpdir(), "rlvr-report-browser-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

interface ChartSeen {
  id: string;
  width: number;
  height: number;
  lines: number;
  drawnLines: number;
}

describe.skipIf(!chromium)("report in a headless browser", () => {
  it("every chart of a two-run report draws its lines", async () => {
    const runs = ["seed1", "seed2"].map((name, k) => {
      const dir = join(parent, name);
      mkdirSync(dir);
      writeFileSync(join(dir, "metrics.jsonl"), syntheticMetrics(40).map((m) => JSON.stringify({ ...m, reward_mean: m.reward_mean * (1 - k / 4) })).join("\n") + "\n");
      writeFileSync(join(dir, "eval.jsonl"), [0, 20, 40].map((step) => JSON.stringify({ step, time: step, test: { math500: 0.3 + step / 400 + k / 100 } })).join("\n") + "\n");
      return dir;
    });
    const out = join(parent, "compare.html");
    const result = await renderReport(runs, { out });

    const { launch } = await import("puppeteer-core");
    const browser = await launch({ executablePath: chromium!, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1400, height: 900 });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(pathToFileURL(out).href, { waitUntil: "load" });
      const seen: ChartSeen[] = await page.evaluate(() =>
        [...document.querySelectorAll("section.chart")].map((section) => {
          const svg = section.querySelector("svg");
          const box = svg?.getBoundingClientRect();
          const lines = [...section.querySelectorAll("g.mark-line path")] as SVGPathElement[];
          const drawn = lines.filter((p) => {
            const b = p.getBBox();
            return (p.getAttribute("d") ?? "").length > 10 && (b.width > 0 || b.height > 0);
          });
          return { id: section.id, width: box?.width ?? 0, height: box?.height ?? 0, lines: lines.length, drawnLines: drawn.length };
        }),
      );
      expect(errors).toEqual([]);
      expect(seen.map((c) => c.id)).toEqual(result.charts);
      for (const c of seen) {
        expect(c.width, `${c.id}: laid-out width`).toBeGreaterThan(200);
        expect(c.height, `${c.id}: laid-out height`).toBeGreaterThan(100);
        expect(c.drawnLines, `${c.id}: line marks drawn (of ${c.lines})`).toBeGreaterThan(0);
      }
      // two columns on a wide screen: the first two charts side by side
      const [first, second] = await page.evaluate(() =>
        [...document.querySelectorAll("section.chart")].slice(0, 2).map((s) => {
          const r = s.getBoundingClientRect();
          return { left: r.left, top: r.top };
        }),
      );
      expect(second!.left).toBeGreaterThan(first!.left + 300);
      expect(Math.abs(second!.top - first!.top)).toBeLessThan(5);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

if (!chromium) console.warn("browser.test.ts skipped: no Chromium found (apt-get install chromium, or set CHROME_PATH)");
