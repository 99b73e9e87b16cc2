export { renderReport, buildReport, svgToPng, formatNumber, EvalResultsSchema, EVAL_RESULTS_FILE, type EvalResults, type ReportOptions, type ReportResult } from "./report.js";
export { chartSpec, chartsFor, renderSvg, type ChartDef, type ChartPoint } from "./charts.js";
