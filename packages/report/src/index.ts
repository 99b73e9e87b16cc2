export {
  renderReport, buildReport, readRun, svgToPng, formatNumber, EvalResultsSchema, EVAL_RESULTS_FILE,
  type EvalResults, type ReportOptions, type ReportResult, type ReportRun,
} from "./report.js";
export { chartSpec, chartsFor, renderSvg, type ChartDef, type ChartPoint, type EvalPoint, type RunData } from "./charts.js";
export { readEvalHistory, RUN_EVAL_FILE } from "./evalHistory.js";
