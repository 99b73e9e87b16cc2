import { Command } from "commander";

import { renderReport } from "@rlvr/report";

/** `rlvr report`: RUN_DIR/report.html from a run's metrics, or several runs overlaid in one page. */
export function reportCommand(): Command {
  return new Command("report")
    .description(
      "write RUN_DIR/report.html: every metric of metrics.jsonl charted, the test accuracy before and after training " +
        "(eval.jsonl) and eval.json when present; with several run folders, one page with the runs overlaid (--out)",
    )
    .argument("<run_dirs...>", "run folder(s) holding metrics.jsonl")
    .option("--out <file>", "where to write the HTML (default: RUN_DIR/report.html for one run, ./rlvr-compare.html for several)")
    .option("--png", "also write each chart as PNG, under charts/ next to the HTML")
    .action(async (runDirs: string[], flags: { png?: boolean; out?: string }) => {
      const result = await renderReport(runDirs, { png: flags.png === true, ...(flags.out ? { out: flags.out } : {}) });
      process.stdout.write(`${result.html}\n`);
      for (const png of result.pngs) process.stdout.write(`${png}\n`);
      process.stderr.write(`report of ${runDirs.length > 1 ? `${runDirs.length} runs, ` : ""}${result.steps} steps, ${result.charts.length} charts\n`);
    });
}
