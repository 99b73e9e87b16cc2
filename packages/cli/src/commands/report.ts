import { Command } from "commander";

import { renderReport } from "@rlvr/report";

/** `rlvr report`: writes RUN_DIR/report.html from RUN_DIR/metrics.jsonl. */
export function reportCommand(): Command {
  return new Command("report")
    .description("write RUN_DIR/report.html (charts of a run's metrics.jsonl, and eval.json when present)")
    .argument("<run_dir>", "run folder holding metrics.jsonl")
    .option("--png", "also write each chart as RUN_DIR/charts/<chart>.png")
    .action(async (runDir: string, flags: { png?: boolean }) => {
      const result = await renderReport(runDir, { png: flags.png === true });
      process.stdout.write(`${result.html}\n`);
      for (const png of result.pngs) process.stdout.write(`${png}\n`);
      process.stderr.write(`report of ${result.steps} steps, ${result.charts.length} charts\n`);
    });
}
